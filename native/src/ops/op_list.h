// The native op registry: one line per op, FPSATTN_OP(<Pascal>) for the k<Pascal>Op its file in native/src/ops/
// defines with FPSATTN_DEFINE_OP. Included by registry.cpp only.
FPSATTN_OP(PermuteRows)
FPSATTN_OP(ChannelMean)
FPSATTN_OP(QuantizeRows)
FPSATTN_OP(QuantizeV)
FPSATTN_OP(DequantizeRows)
FPSATTN_OP(DequantizeV)
FPSATTN_OP(ExpandRowScales)
FPSATTN_OP(Attention)
FPSATTN_OP(Gemm)
