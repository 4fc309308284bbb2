# man: section 3 (API), 5 (file format) and 7 (overview) pages of libring, and the section 1
# pages of the programs. The top Makefile installs man/*.1, man/*.3, man/*.5, man/*.7.
#
#   make man-check   render every page, links included, as `man -l` does
#                    from the repository, and fail on any groff warning; a
#                    link page must be a symbolic link to a page here (a .so
#                    request cannot resolve both here and once installed).
MAN_PAGES := $(wildcard man/*.1 man/*.3 man/*.5 man/*.7)

.PHONY: man-check
man-check:
	@status=0; \
	for f in $(MAN_PAGES); do \
		if [ -L "$$f" ]; then \
			[ -f "$$f" ] && [ "$$(dirname "$$(readlink "$$f")")" = . ] || { \
				echo "$$f: links outside man/ or to nothing" >&2; \
				status=1; continue; }; \
		elif sed -n '1p' "$$f" | grep -q '^\.so'; then \
			echo "$$f: a .so link; make it a symbolic link" >&2; \
			status=1; continue; \
		fi; \
		if command -v man >/dev/null 2>&1; then \
			warn=$$(MANWIDTH=80 man --warnings -l -Tutf8 "$$f" \
				2>&1 >/dev/null); \
		else \
			warn=$$(groff -t -man -ww -z "$$f" 2>&1); \
		fi; \
		if [ -n "$$warn" ]; then \
			printf '%s:\n%s\n' "$$f" "$$warn" >&2; status=1; \
		fi; \
	done; \
	[ $$status = 0 ] && echo "man-check: $(words $(MAN_PAGES)) pages OK"; \
	exit $$status
