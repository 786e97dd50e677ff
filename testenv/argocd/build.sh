#!/usr/bin/env bash
# build.sh: build the real Argo CD multi-call binary (and the helm v3 its repo server calls) from
# the Go module proxy, cached under $ECHO_CACHE_DIR. Sourced by testenv/components/44-argocd.
#
#   argocd_build   -> $ECHO_CACHE_DIR/argocd/<version>-<hash>/argocd + symlinks named by component
#   helm3_build    -> $ECHO_CACHE_DIR/helm3/<version>/helm
#
# Argo CD: `go mod download -json github.com/argoproj/argo-cd/v2@VERSION` gives the module's Dir
# (read-only in the module cache); it is copied to a writable folder, so its own go.mod (with its
# k8s staging replaces) is the main module. Upstream's ./cmd links all eleven programs (CLI,
# ApplicationSet and notifications controllers with their SCM and notifier SDKs, Dex, ...); the
# rehearsal runs four, so a small main of ours (written below, next to upstream's) dispatches on the
# same binary names to the same upstream command packages, and only those are compiled: a cold build
# of about 1600 packages instead of 2200. Nothing is vendored or committed; a second build is a
# no-op. The hash keys the output by the module's checksum, the Go version, our link flags and our
# main.
# shellcheck shell=bash

ARGOCD_VERSION=${ARGOCD_VERSION:-v2.14.4}  # app version of the argo-cd chart 7.8.9
# the helm release the Argo CD v2.14.4 image ships (its hack/tool-versions.sh: helm3_version)
ARGOCD_HELM_VERSION=${ARGOCD_HELM_VERSION:-v3.16.3}
ARGOCD_MODULE=github.com/argoproj/argo-cd/v2
# the names the multi-call binary answers to (its main switches on its own file name, as upstream's
# cmd/main.go does); argocd-git-ask-pass is what the repo server sets as GIT_ASKPASS for HTTPS
# credentials
ARGOCD_COMMANDS=(argocd-application-controller argocd-repo-server argocd-server argocd-git-ask-pass)

# _argocd_main: the rehearsal's main package (Go source on stdout)
_argocd_main() {
    cat <<'GO'
// The rehearsal's Argo CD entry point: the programs testenv runs, chosen by the name the binary
// is called by (as the images' /usr/local/bin/argocd-* links do). Written by testenv/argocd/build.sh.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	controller "github.com/argoproj/argo-cd/v2/cmd/argocd-application-controller/commands"
	askpass "github.com/argoproj/argo-cd/v2/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v2/cmd/argocd-repo-server/commands"
	server "github.com/argoproj/argo-cd/v2/cmd/argocd-server/commands"
	"github.com/argoproj/argo-cd/v2/cmd/util"
)

func main() {
	name := filepath.Base(os.Args[0])
	if override := os.Getenv("ARGOCD_BINARY_NAME"); override != "" {
		name = override
	}
	programs := map[string]func() *cobra.Command{
		"argocd-application-controller": controller.NewCommand,
		"argocd-repo-server":            reposerver.NewCommand,
		"argocd-server":                 server.NewCommand,
		"argocd-git-ask-pass":           askpass.NewCommand,
	}
	newCommand, known := programs[name]
	if !known {
		fmt.Fprintf(os.Stderr, "%s: this rehearsal build runs argocd-application-controller, "+
			"argocd-repo-server, argocd-server and argocd-git-ask-pass (call it by one of those names)\n", name)
		os.Exit(2)
	}
	util.SetAutoMaxProcs(name == "argocd-git-ask-pass")
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
GO
}

_argocd_ldflags() {
    local p=$ARGOCD_MODULE/common
    printf '%s' "-s -w -X $p.version=${ARGOCD_VERSION#v} -X $p.gitTag=$ARGOCD_VERSION -X $p.buildDate=1970-01-01T00:00:00Z"
}

_argocd_module_json() {
    (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$ARGOCD_MODULE@$ARGOCD_VERSION")
}

# argocd_dir: the cache folder for this version, keyed by module checksum + go version + flags
argocd_dir() {
    local sum
    sum=$(_argocd_module_json | py -c 'import json,sys; print(json.load(sys.stdin)["Sum"])') ||
        return 1
    printf '%s/argocd/%s-%s' "$ECHO_CACHE_DIR" "$ARGOCD_VERSION" \
        "$(printf '%s\n%s\n%s\n%s\n' "$sum" "$(go env GOVERSION)" "$(_argocd_ldflags)" "$(_argocd_main)" |
            sha256sum | cut -c1-12)"
}

argocd_build() {
    local dir src work c
    dir=$(argocd_dir) || die "go mod download of $ARGOCD_MODULE@$ARGOCD_VERSION failed"
    if [[ ! -x $dir/argocd ]]; then
        src=$(_argocd_module_json | py -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        [[ -d $src ]] || die "module folder of $ARGOCD_MODULE@$ARGOCD_VERSION not found"
        work="$ECHO_CACHE_DIR/argocd/src-$ARGOCD_VERSION"
        log "building $ARGOCD_MODULE@$ARGOCD_VERSION (controller, repo server, server, git askpass) in $work -> $dir/argocd (cold: about 20 minutes on 2 cores)"
        rm -rf "$work"
        mkdir -p "$work" "$dir"
        cp -a "$src/." "$work/"
        chmod -R u+w "$work"
        mkdir -p "$work/cmd/echo-rehearsal"
        _argocd_main >"$work/cmd/echo-rehearsal/main.go"
        (cd "$work" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
            nice -n 10 go build -trimpath -ldflags "$(_argocd_ldflags)" -o "$dir/argocd.tmp" ./cmd/echo-rehearsal) ||
            die "build of argocd failed"
        mv "$dir/argocd.tmp" "$dir/argocd"
        rm -rf "$work"
    fi
    for c in "${ARGOCD_COMMANDS[@]}"; do
        [[ $c == argocd ]] || ln -sfn argocd "$dir/$c"
        ln -sfn "$dir/$c" "$ECHO_CACHE_DIR/bin/$c"
    done
}

# helm3_bin: helm v3 for the repo server only (it runs `helm template` for Helm sources); the
# control node keeps the helm 4 that make setup installs
helm3_dir() { printf '%s/helm3/%s' "$ECHO_CACHE_DIR" "$ARGOCD_HELM_VERSION"; }

helm3_build() {
    local dir
    dir=$(helm3_dir)
    if [[ ! -x $dir/helm ]]; then
        log "building helm.sh/helm/v3/cmd/helm@$ARGOCD_HELM_VERSION -> $dir/helm"
        mkdir -p "$dir"
        GOBIN="$dir" CGO_ENABLED=0 nice -n 10 go install -trimpath \
            -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$ARGOCD_HELM_VERSION" \
            "helm.sh/helm/v3/cmd/helm@$ARGOCD_HELM_VERSION" || die "build of helm $ARGOCD_HELM_VERSION failed"
    fi
}
