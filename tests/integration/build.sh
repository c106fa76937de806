# The structure the build promises (docs/architecture.md): component
# boundaries and library prefixes, checked by `make check-structure`.

structure() { make -s -C "$TOP" BUILDDIR="${BUILD_DIR#$TOP/}" "$@" check-structure 2>&1; }

test_structure_holds() {
	out=$(structure) || fail "$out"
	assert_contains "$out" "boundaries and exported names hold"
}

test_structure_check_catches_a_header_across_a_boundary() {
	# image/ given librune's include path must be caught
	out=$(structure IMAGE_INC="-Icommon -Iimage/lib -Irune/lib") && fail "not caught: $out"
	assert_contains "$out" "boundary broken: container.h is visible"
}

test_structure_check_catches_an_unprefixed_export() {
	local fake="$T/fake"
	mkdir -p "$fake"
	cp "$BUILD_DIR"/librune.a "$BUILD_DIR"/libruneimage.a "$BUILD_DIR"/libcommon.a "$fake/"
	printf 'int read_file(void) { return 0; }\n' >"$T/bad.c"
	cc -c -o "$T/bad.o" "$T/bad.c"
	ar rs "$fake/libcommon.a" "$T/bad.o" 2>/dev/null
	out=$(make -s -C "$TOP" BUILDDIR="$fake" -o "$fake/libcommon.a" -o "$fake/librune.a" -o "$fake/libruneimage.a" \
		check-structure 2>&1) && fail "not caught: $out"
	assert_contains "$out" "exports names without its prefix: read_file"
}
