#!/bin/bash
# man_pages.t - the API manual pages match the public header.
#
# For every function declared in libring/include/ring.h:
#   - some page lists it in its NAME section and shows its prototype, exactly
#     as the header declares it, in its SYNOPSIS;
#   - every error code the header's comment on it names is in that page;
#   - man/NAME.3 exists (a page, or a .so link to the page), so that
#     `man NAME` finds it once installed.
# For every page: the sections a reader expects are there, every ring_*(3)
# reference names an existing page, and the page renders without a single
# groff warning (skipped when neither man nor groff is installed).
# Runs from the repository root.

HEADER=libring/include/ring.h
MANDIR=man

# ok, the counters n and failed.
. "$(dirname "$0")/lib/tap.sh"

# skip DESCRIPTION REASON: one skipped TAP result.
skip() {
	n=$((n + 1))
	echo "ok $n # skip $1: $2"
}

if [ ! -f "$HEADER" ] || [ ! -d "$MANDIR" ]; then
	echo "1..0 # skip run from the repository root ($HEADER, $MANDIR/)"
	exit 0
fi

tmp=$(mktemp -d /tmp/man_pages.$$.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# header_decls: one line per function declared in the header:
# NAME<TAB>normalised prototype<TAB>error codes named in its comment.
header_decls() {
	perl -0777 -ne '
		sub norm { my $s = shift; $s =~ s/\s+/ /g; $s =~ s/\( /(/g;
			   $s =~ s/ \)/)/g; $s =~ s/ ,/,/g; $s =~ s/^ | $//g;
			   return $s; }
		while (/(\/\*((?:(?!\*\/).)*)\*\/\s*)?^((?:const )?\w+ \**(ring_\w+)\([^;]*\);)/msg) {
			my ($comment, $proto, $name) = ($2 // "", $3, $4);
			my %codes = map { $_ => 1 } ($comment =~ /-(E[A-Z]+)/g);
			print "$name\t", norm($proto), "\t",
			      join(" ", sort keys %codes), "\n";
		}' "$HEADER"
}

# page_names PAGE: the names listed in the NAME section of PAGE.
page_names() {
	sed -n '/^\.SH NAME/,/^\.SH /p' "$1" | sed '1d;$d' | tr '\n' ' ' |
		sed 's/\\-.*//' | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
		grep -v '^$'
}

# synopsis_text PAGE: the SYNOPSIS of PAGE as plain, normalised text
# (font macros joined as troff joins them, escapes removed).
synopsis_text() {
	sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$1" | perl -ne '
		sub args { my @a; my $s = shift;
			   while ($s =~ /\G\s*(?:"((?:[^"]|"")*)"|(\S+))/g) {
				   push @a, defined $1 ? $1 : $2; }
			   return @a; }
		if (/^\.(B|I|BI|IB|BR|RB|IR|RI)\s(.*)/) {
			my @a = args($2);
			$_ = (length $1 == 1 ? join(" ", @a) : join("", @a)) . "\n";
		} elsif (/^\./) { next; }
		s/\\f[BIRP]//g; s/\\-/-/g; s/\\e/\\/g;
		$t .= $_;
		END { $t =~ s/\s+/ /g; $t =~ s/\( /(/g; $t =~ s/ \)/)/g;
		      $t =~ s/ ,/,/g; print "$t\n"; }'
}

# so_target PAGE: the page a link page points at (a symbolic link in man/,
# or a .so request), or nothing.
so_target() {
	if [ -L "$1" ]; then
		readlink "$1"
	else
		sed -n '1s/^\.so  *//p' "$1"
	fi
}

pages=()
links=()
for f in "$MANDIR"/*.3 "$MANDIR"/*.5 "$MANDIR"/*.7; do
	[ -f "$f" ] || continue
	if [ -n "$(so_target "$f")" ]; then
		links+=("$f")
	else
		pages+=("$f")
	fi
done

# name -> page that documents it, from the NAME sections.
declare -A doc_page
for f in "${pages[@]}"; do
	while read -r name; do
		doc_page[$name]=$f
	done < <(page_names "$f")
done

header_decls > "$tmp/decls"
nfuncs=$(wc -l < "$tmp/decls")
ok "$([ "$nfuncs" -ge 20 ] && echo 0 || echo 1)" \
	"found the header's function declarations ($nfuncs)"

# --- every public function is documented ------------------------------
while IFS=$'\t' read -r name proto codes; do
	page=${doc_page[$name]}
	ok "$([ -n "$page" ] && echo 0 || echo 1)" \
		"$name is in the NAME section of a page${page:+ ($page)}"
	if [ -z "$page" ]; then
		skip "$name prototype in SYNOPSIS" "no page"
		skip "$name error codes" "no page"
	else
		syn=$(synopsis_text "$page")
		ok "$(case "$syn" in *"$proto"*) echo 0;; *) echo 1;; esac)" \
			"$name SYNOPSIS matches the header" \
			"header: $proto"
		missing=
		for code in $codes; do
			grep -q -- "\\\\-$code\\b" "$page" ||
				missing="$missing $code"
		done
		ok "$([ -z "$missing" ] && echo 0 || echo 1)" \
			"$name: every error code in the header comment is in $page${codes:+ ($codes)}" \
			"missing:$missing"
	fi
	f="$MANDIR/$name.3"
	target=$(so_target "$f" 2>/dev/null)
	if [ ! -f "$f" ]; then
		ok 1 "man $name finds a page" "$f does not exist"
	elif [ -n "$target" ]; then
		ok "$([ "$MANDIR/${target#*/}" = "$page" ] && echo 0 || echo 1)" \
			"man $name finds a page ($f links to $target)" \
			"the link should point at man3/${page#"$MANDIR"/}"
	else
		ok 0 "man $name finds a page ($f)"
	fi
done < "$tmp/decls"

# --- every link page points at a page that lists its name ---------------
for f in "${links[@]}"; do
	name=$(basename "$f" .3)
	target=$MANDIR/$(so_target "$f" | sed 's|^man[0-9]/||')
	ok "$([ -f "$target" ] && page_names "$target" | grep -qx "$name" &&
	      echo 0 || echo 1)" \
		"$f links to a page whose NAME lists $name"
done

# --- every page has its sections and valid references -------------------
for f in "${pages[@]}"; do
	case "$f" in
	*.3) need="NAME|LIBRARY|SYNOPSIS|DESCRIPTION|RETURN VALUE|ERRORS|SEE ALSO" ;;
	*.7) need="NAME|DESCRIPTION|FILE FORMAT|GUARANTEES|FORK|CONCURRENCY|EXAMPLES|SEE ALSO" ;;
	*.5) need="NAME|DESCRIPTION|SEE ALSO" ;;
	esac
	missing=
	IFS='|' read -r -a sections <<< "$need"
	for s in "${sections[@]}"; do
		grep -qx "\\.SH $s" "$f" || missing="$missing '$s'"
	done
	case "$f" in
	*.3) grep -qE '^\.SH (CONCURRENCY|NOTES)$' "$f" ||
		missing="$missing 'CONCURRENCY or NOTES'" ;;
	esac
	ok "$([ -z "$missing" ] && echo 0 || echo 1)" \
		"$f has its sections" "missing:$missing"

	bad=
	for ref in $(grep -oE '^\.BR ring_[a-z_]+ \(3\)' "$f" | awk '{print $2}'); do
		[ -f "$MANDIR/$ref.3" ] || bad="$bad $ref(3)"
	done
	ok "$([ -z "$bad" ] && echo 0 || echo 1)" \
		"$f refers only to existing pages" "no page for:$bad"
done

# --- every page renders without warnings ------------------------------
if command -v man >/dev/null 2>&1; then
	render() { MANWIDTH=80 man --warnings -l -Tutf8 "$1" 2>&1 >/dev/null; }
	renderer=man
elif command -v groff >/dev/null 2>&1; then
	render() { groff -t -man -ww -z "$1" 2>&1; }
	renderer=groff
else
	renderer=
fi
# A .so request is resolved against the current directory by `man -l` and
# against the manual's root once installed: no form works for both, so
# link pages are symbolic links, which work for both.
for f in "${links[@]}"; do
	ok "$([ -L "$f" ] && echo 0 || echo 1)" \
		"$f is a symbolic link (a .so link fails with man -l from here)"
done
for f in "${pages[@]}" "${links[@]}"; do
	if [ -z "$renderer" ]; then
		skip "$f renders without warnings" "neither man nor groff is installed"
		continue
	fi
	warn=$(render "$f")
	ok "$([ -z "$warn" ] && echo 0 || echo 1)" \
		"$f renders without warnings ($renderer)" "$warn"
done

# --- link pages work once installed ------------------------------------
mkdir -p "$tmp/man/man3" "$tmp/man/man7"
cp -P "$MANDIR"/*.3 "$tmp/man/man3/"
cp -P "$MANDIR"/*.7 "$tmp/man/man7/"
for f in "${links[@]}"; do
	name=$(basename "$f" .3)
	if ! command -v man >/dev/null 2>&1; then
		skip "man 3 $name renders through its link" "man is not installed"
		continue
	fi
	title=$(basename "$(so_target "$f")" .3 | tr 'a-z' 'A-Z')
	out=$(MANWIDTH=80 man -M "$tmp/man" --warnings -Tutf8 3 "$name" \
		2>"$tmp/err")
	ok "$([ ! -s "$tmp/err" ] && [[ "$out" == "$title(3)"* ]] &&
	      echo 0 || echo 1)" \
		"man 3 $name renders the $title page" "$(cat "$tmp/err")"
done

echo "1..$n"
[ "$failed" = 0 ]
