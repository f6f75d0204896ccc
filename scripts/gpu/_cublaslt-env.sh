# Sourced by the scripts/gpu/run-*.sh scripts whose ops call gemm, after _node-env.sh (it needs node and
# packages/kernels/dist): the GEMMs need cuBLASLt, which the addon dlopens (CUDA_HOME, /usr/local/cuda, LD_LIBRARY_PATH,
# pip wheels). If FPSATTN_CUBLASLT is unset and the addon finds none, ask python3 where pip put the wheel and export
# FPSATTN_CUBLASLT, saying so on a line prefixed with the calling script's name.
lt_loaded() { node --input-type=module -e "import * as K from './packages/kernels/dist/index.js'; process.exit(K.cublasLtStatus()?.loaded ? 0 : 1)"; }
if [ -z "${FPSATTN_CUBLASLT:-}" ] && ! lt_loaded; then
  FOUND=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
dirs = list(site.getsitepackages()) + [site.getusersitepackages()]
for d in dirs:
    for sub in ("nvidia/cu13/lib", "nvidia/cublas/lib"):
        hits = sorted(glob.glob(os.path.join(d, sub, "libcublasLt.so*")), reverse=True)
        if hits:
            print(hits[0])
            raise SystemExit
PY
)
  [ -n "$FOUND" ] && export FPSATTN_CUBLASLT=$FOUND && echo "$(basename "$0" .sh): FPSATTN_CUBLASLT=$FOUND (from python3's site-packages)"
fi
