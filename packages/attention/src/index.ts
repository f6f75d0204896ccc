// @fpsattn/attention: FPSAttention for video DiTs. One call from raster-order BF16 Q, K, V and an attention plan to the
// attention output (BF16 and FP8, dense and block-sparse), over cached plan-to-device geometry. See README.md.
export { attention, type AttentionOptions } from './attention';
export {
  AttentionGeometryCache,
  attentionGeometry,
  createAttentionGeometry,
  defaultAttentionGeometryCache,
  type AttentionGeometry,
  type AttentionGeometryOptions,
  type DeviceBlockLists,
} from './attention-geometry';
export { buildHostGeometry, type HostBlockLists, type HostGeometry, type HostQuantGroups, type TokenOrder } from './host-geometry';
export { resolvePlans, type AttentionDType, type ResolvedGranularity, type ResolvedPlans } from './_plans';
export { ATTENTION_ERROR_CODES, AttentionInputError, AttentionPlanError, type AttentionErrorCode } from './errors';
