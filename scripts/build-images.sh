#!/usr/bin/env bash
# Builds the restore images from Debian packages (no registry can be reached here):
#   debootstrap a minimal bookworm with the server package, then `docker import` it.
# Cached twice: the image in the engine, and its tarball under $DRILL_CACHE_DIR so that
# a fresh engine on the same machine imports instead of bootstrapping again.
# Usage: build-images.sh [postgres|mariadb|tools|python|redis] ...   (default: the restore images)
set -euo pipefail

cache_dir="${DRILL_CACHE_DIR:-$HOME/.cache/restore-drill}/images"
mkdir -p "$cache_dir"

# The first Debian mirror named in the machine's apt sources (never a hard-coded host).
debian_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# engine -> "image tag|debian packages|PATH directory of the server binaries|user set-up"
# Servers and tools run as uid/gid 999, as in the official images, so one setting serves both.
declare -A recipes=(
  [postgres]="restore-drill/postgres:15-bookworm|postgresql-15,pgbackrest|/usr/lib/postgresql/15/bin|groupmod -g 999 postgres && usermod -u 999 -g 999 postgres"
  [mariadb]="restore-drill/mariadb:10.11-bookworm|mariadb-server|/usr/sbin|groupmod -g 999 mysql && usermod -u 999 -g 999 mysql"
  [tools]="restore-drill/tools:bookworm|sqlite3|/usr/bin|groupadd -g 999 drill && useradd -u 999 -g 999 -M -d /nonexistent drill"
  # For the deployment test (make test-deploy): the app image's base, and Redis.
  [python]="restore-drill/python:3.11-bookworm|python3,python3-venv,fonts-dejavu-core,ca-certificates|/usr/bin|true"
  [redis]="restore-drill/redis:7-bookworm|redis-server|/usr/bin|true"
)
restore_images=(postgres mariadb tools)  # what drills need; the others on demand

unmount_below() {
  local mount
  for mount in $(awk -v root="$1/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount"
  done
}

build() {
  local engine=$1 tag packages bindir users tarball rootfs recipe
  IFS='|' read -r tag packages bindir users <<<"${recipes[$engine]}"
  # The recipe's hash labels the image and names its tarball: a changed recipe (a package added)
  # builds again on a machine that holds the old image.
  recipe=$(printf '%s' "${recipes[$engine]}" | sha256sum | cut -c1-12)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "io.restore-drill.recipe" }}' "$tag" 2>/dev/null)" = "$recipe" ]; then
    echo "images: $tag present"; return
  fi
  tarball="$cache_dir/${tag//[\/:]/_}.$recipe.tar"
  if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
    echo "images: bootstrapping $tag from $(debian_mirror) (about a minute)"
    debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$(debian_mirror)" >"$cache_dir/$engine.debootstrap.log" 2>&1 \
      || { echo "images: debootstrap failed, see $cache_dir/$engine.debootstrap.log" >&2; exit 1; }
    unmount_below "$rootfs"  # debootstrap may leave the chroot's /proc mounted
    chroot "$rootfs" sh -c "$users"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --exclude='./proc/*' --exclude='./sys/*' -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    find "$cache_dir" -maxdepth 1 -name "${tag//[\/:]/_}*.tar" ! -name "$(basename "$tarball")" -delete  # older recipes
    rm -rf --one-file-system "$rootfs"
  fi
  echo "images: importing $tag"
  docker import --change "ENV PATH=$bindir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" --change "LABEL io.restore-drill.recipe=$recipe" "$tarball" "$tag" >/dev/null
}

for engine in "${@:-${restore_images[@]}}"; do
  [ -n "${recipes[$engine]:-}" ] || { echo "images: unknown engine $engine" >&2; exit 2; }
  build "$engine"
done
