#!/usr/bin/env bash
# Packs what the GPU machine runs into the carried, git-ignored .gpu/ (run here after building; carry only `.gpu`):
# the addon as .gpu/fpsattn.node (FPSATTN_ADDON there), and .gpu/dists.tgz with every package's dist/, the CLI's dist
# and its third-party modules (commander, @resvg/resvg-js, @huggingface/tokenizers). Node itself: ../shared/gpu/pack-node.sh.
# There: tar xzf .gpu/dists.tgz; source scripts/gpu/_node-env.sh; export FPSATTN_ADDON=$PWD/.gpu/fpsattn.node
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu
cp native/build/Release/fpsattn.node .gpu/fpsattn.node
mods=()
for m in apps/cli/node_modules/commander node_modules/commander node_modules/@resvg node_modules/@huggingface; do
  [ -e "$m" ] && mods+=("$m")
done
tar czf .gpu/dists.tgz packages/*/dist apps/cli/dist "${mods[@]}"
du -sh .gpu/* | sed 's/^/snap: /'
du -sh .gpu | sed 's/^/snap: total /'
