#!/usr/bin/env bash
# with-sa-mount.sh SA_DIR CMD...
# Run CMD with SA_DIR visible at /var/run/secrets/kubernetes.io/serviceaccount, the path
# client-go's in-cluster configuration reads (token, ca.crt, namespace). Must run in a private
# mount namespace (the caller wraps it in `unshare -m --propagation private`), so the host's
# /run is never changed: a tmpfs is mounted over /run inside that namespace only.
set -euo pipefail
sa_dir=$1
shift
run_dir=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755,size=1m testenv-run "$run_dir"
mkdir -p "$run_dir/secrets/kubernetes.io/serviceaccount"
mount --bind -o ro "$sa_dir" "$run_dir/secrets/kubernetes.io/serviceaccount"
exec "$@"
