# man: section 3 (API), 5 (file format) and 7 (overview) pages of libring, and the section 1
# pages of the programs. The top Makefile installs man/*.1, man/*.3, man/*.5, man/*.7.
#
#   make man-check   render every page and fail on any groff warning;
#                    a link page (.so) must name a page that exists here.
MAN_PAGES := $(wildcard man/*.1 man/*.3 man/*.5 man/*.7)

.PHONY: man-check
man-check:
	@status=0; \
	for f in $(MAN_PAGES); do \
		so=$$(sed -n '1s/^\.so  *//p' "$$f"); \
		if [ -n "$$so" ]; then \
			[ -f "man/$${so#*/}" ] && continue; \
			echo "$$f: .so target $$so is not in man/" >&2; \
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
