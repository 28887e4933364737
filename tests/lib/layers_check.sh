#!/bin/sh
# The layering check itself (ctest layers_check): cmake/check_layers.cmake
# must pass a tree whose folders use only lower ones, and fail one where a
# folder includes, or calls, a folder above it.
#
#   layers_check.sh SOURCE_DIR CMAKE CC NM
set -eu
src=$1 cmake=$2 cc=$3 nm=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check=$src/cmake/check_layers.cmake

fail() { echo "layers_check.sh: $*" >&2; exit 1; }

# A tree: util at the bottom, iceberg above it.
tree() {
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t/src/util" "$tmp/t/src/iceberg" "$tmp/t/include/firn"
	printf '#include "firn/export.h"\nFIRN_API int firn_up(void);\n' >"$tmp/t/include/firn/util.h"
	printf '#define FIRN_API\n' >"$tmp/t/include/firn/export.h"
	printf '#include "firn/export.h"\n#include "firn/util.h"\n' >"$tmp/t/include/firn/firn.h"
	printf '#include "firn/util.h"\nint firn_util_x(void) { return 1; }\n' >"$tmp/t/src/util/a.c"
	printf '#include "util/a.h"\n#include "firn/util.h"\n#include "b.h"\n' >"$tmp/t/src/iceberg/b.c"
}
includes() {
	"$cmake" -DMODE=includes -DSRC="$tmp/t" -DSTAMP="$tmp/stamp" -P "$check" >"$tmp/out" 2>&1
}

tree
includes || fail "a clean tree fails: $(cat "$tmp/out")"
[ -f "$tmp/stamp" ] || fail "no stamp after a clean check"

tree
printf '#include "iceberg/ice_meta.h"\n' >>"$tmp/t/src/util/a.c"
rm -f "$tmp/stamp"
if includes; then fail "util including iceberg/ passes"; fi
grep -q 'src/util/a.c: includes iceberg/ice_meta.h (iceberg), above its layer util' "$tmp/out" ||
	fail "the message does not name the include: $(cat "$tmp/out")"
[ ! -f "$tmp/stamp" ] || fail "stamp written by a failed check"

tree
printf '#include "firn/table.h"\n' >>"$tmp/t/src/util/a.c"
if includes; then fail "util including firn/table.h (iceberg) passes"; fi

tree
printf 'int firn_down(void);\n' >>"$tmp/t/include/firn/util.h"
if includes; then fail "a public declaration without FIRN_API passes"; fi
grep -q 'without FIRN_API: int firn_down' "$tmp/out" || fail "no FIRN_API message: $(cat "$tmp/out")"

tree
printf '#include "firn/nowhere.h"\n' >>"$tmp/t/src/iceberg/b.c"
if includes; then fail "a public header with no layer passes"; fi

# Symbols: util's object calls a function that iceberg's object defines.
symbols() {
	printf '%s=%s\n%s=%s\n' "${3:-util}" "$1" "${4:-iceberg}" "$2" >"$tmp/objects"
	"$cmake" -DMODE=symbols -DSRC="$src" -DOBJECTS="$tmp/objects" -DNM="$nm" \
		-DSTAMP="$tmp/stamp" -P "$check" >"$tmp/out" 2>&1
}
printf 'int firn_top(void);\nint firn_low(void) { return firn_top(); }\n' >"$tmp/low.c"
printf 'int firn_top(void) { return 1; }\n' >"$tmp/top.c"
printf 'int firn_low(void);\nint firn_high(void) { return firn_low(); }\n' >"$tmp/high.c"
for f in low top high; do "$cc" -c -o "$tmp/$f.o" "$tmp/$f.c"; done
symbols "$tmp/top.o" "$tmp/high.o" || fail "iceberg calling util fails: $(cat "$tmp/out")"
if symbols "$tmp/low.o" "$tmp/top.o"; then fail "util calling iceberg passes"; fi
grep -q 'src/util uses firn_top, defined in src/iceberg above it' "$tmp/out" ||
	fail "the message does not name the symbol: $(cat "$tmp/out")"
# avro sits above arrow but does not link it (FIRN_USES_avro).
if symbols "$tmp/low.o" "$tmp/high.o" arrow avro; then fail "avro calling arrow passes"; fi
grep -q 'src/avro uses firn_low of src/arrow, which it does not link' "$tmp/out" ||
	fail "the message does not name the missing link: $(cat "$tmp/out")"
echo "layers_check: OK"
