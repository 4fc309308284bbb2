# tests/model: the Promela models of the claim/recovery and group-placement
# protocols, checked exhaustively by spin (Debian package spin).
.PHONY: check-model
check-model:
	prove -f tests/model/run.sh
