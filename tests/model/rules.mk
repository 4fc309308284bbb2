# tests/model: the Promela models of the claim/recovery, group-placement,
# lease and shared-group protocols, checked exhaustively by spin (Debian
# package spin).
.PHONY: check-model
check-model:
	prove -f tests/model/run.sh
