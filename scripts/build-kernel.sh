#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the kernel of the series branch out of tree
# (O=$CACHE/build-$FLAVOUR), incrementally, with ccache, in the toolchain
# root. Builds are serialised by a lock: the machine has two cores.
#   FLAVOUR=full   x86_64 defconfig + selftests/bpf config + configs/
#   FLAVOUR=debug  the same + configs/debug.config (lockdep, KASAN, ...)
#   FLAVOUR=base   the base without the series ($CACHE/linux-base, an
#                  export of the series' base), configured as full: the
#                  reference of `make bench`
#   FLAVOUR=kcsan  the same + configs/kcsan.config (data races)
#   FLAVOUR=base-kcsan  the base without the series, configured as kcsan:
#                  the reference of scripts/kcsan.sh
#   FLAVOUR=bisect-NAME  tinyconfig + configs/bisect/NAME.config, bzImage
#                  only: the small builds of `make bisect`
#   FLAVOUR=matrix-NAME  tinyconfig + configs/matrix/NAME.config, vmlinux
#                  only, with the make variables of its "# make:" line
#                  (ARCH=, LLVM=, CROSS_COMPILE=): `make matrix`
. "$(dirname "$0")/common.sh"

src=$KDIR
basecfg=x86_64_defconfig
makevars=()
targets=(bzImage modules)
st=$KDIR/tools/testing/selftests/bpf
upstream=("$st/config" "$st/config.vm" "$st/config.x86_64")
# Ours: checked to have taken effect after configuration
own=("$TOP/configs/vm.config" "$TOP/configs/memcg-bpf.config")
case "$FLAVOUR" in
full) ;;
debug) own+=("$TOP/configs/debug.config") ;;
kcsan) own+=("$TOP/configs/kcsan.config") ;;
base) src=$CACHE/linux-base ;;
base-kcsan) src=$CACHE/linux-base; own+=("$TOP/configs/kcsan.config") ;;
bisect-*)
	basecfg=tinyconfig
	targets=(bzImage)
	upstream=()
	own=("$TOP/configs/bisect/${FLAVOUR#bisect-}.config") ;;
matrix-*)
	basecfg=tinyconfig
	targets=(vmlinux)
	upstream=()
	own=("$TOP/configs/matrix/${FLAVOUR#matrix-}.config")
	[ -f "${own[0]}" ] || die "no ${own[0]}"
	read -r -a makevars < <(sed -n 's/^# make: //p' "${own[0]}") ;;
*) die "unknown FLAVOUR=$FLAVOUR (full, debug, kcsan, base, base-kcsan, bisect-NAME or matrix-NAME)" ;;
esac
fragments=("${upstream[@]}" "${own[@]}")
[ -f "$KDIR/Makefile" ] || die "no kernel tree at $KDIR; run: make tree"
if [ "$FLAVOUR" = base ] || [ "$FLAVOUR" = base-kcsan ]; then
	# An export of the base commit, made once and kept (the stamp names
	# the commit): its mtimes stay, so rebuilds are incremental.
	b=$(series_base)
	if [ "$(cat "$src/.base-commit" 2>/dev/null)" != "$b" ]; then
		need_space "$CACHE" 2000 "the base source tree"
		rm -rf "$src"
		mkdir -p "$src"
		git -C "$KDIR" archive "$b" | tar -x -C "$src"
		echo "$b" >"$src/.base-commit"
	fi
fi

for f in "${fragments[@]}"; do [ -f "$f" ] || die "missing config fragment $f"; done

need_space "$CACHE" 6000 "the kernel build"
mkdir -p "$OUT"
exec 9>"$CACHE/build.lock"
flock 9

log=$OUT/build.log
kmake() { in_root make -C "$src" O="$OUT" -j"$JOBS" "${makevars[@]}" "$@"; }

sum=$(cat "${fragments[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$OUT/.config" ] || [ "$(cat "$OUT/.config.fragments" 2>/dev/null)" != "$sum" ]; then
	msg "configuring the $FLAVOUR kernel"
	{
		kmake $basecfg
		in_root "$src/scripts/kconfig/merge_config.sh" -m -O "$OUT" \
			"$OUT/.config" "${fragments[@]}"
		kmake olddefconfig
		# Everything built in: the VM then needs no module loading
		# but bpf_testmod's.
		[ "$basecfg" = tinyconfig ] || kmake mod2yesconfig
	} >"$log" 2>&1 || { tail -30 "$log"; die "kernel configuration failed (log: $log)"; }
	# Every option our fragments ask for must have taken effect (the
	# last fragment that sets an option wins, as in merge_config.sh).
	miss=0
	while read -r line; do
		# The base kernel of `make bench` has no option of the series.
		[[ $FLAVOUR = base* ]] && [[ "$line" = *CONFIG_MEMCG_BPF[=\ ]* ]] && continue
		case "$line" in
		CONFIG_*=n) grep -q "^${line%%=*}=" "$OUT/.config" && { echo "  not applied: $line"; miss=1; } ;;
		CONFIG_*=*) grep -qxF "$line" "$OUT/.config" || { echo "  not applied: $line"; miss=1; } ;;
		"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$OUT/.config" && { echo "  not applied: $line"; miss=1; } ;;
		esac
	done < <(awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { k = $0; sub(/=.*/, "", k) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set/ { k = $2 }
		k != "" { if (!(k in v)) order[n++] = k; v[k] = $0; k = "" }
		END { for (i = 0; i < n; i++) print v[order[i]] }' \
		"${own[@]}")
	[ $miss -eq 0 ] || die "config fragments not fully applied (a dependency is missing)"
	echo "$sum" >"$OUT/.config.fragments"
fi

msg "building the $FLAVOUR kernel in $OUT (log: $log)"
start=$(date +%s)
if ! kmake "${targets[@]}" >"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -30
	tail -15 "$log"
	die "kernel build failed (log: $log)"
fi
msg "kernel built in $(( $(date +%s) - start )) s: $(in_root make -s -C "$src" O="$OUT" kernelrelease)"
