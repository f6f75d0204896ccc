import type { WanVaeConfig } from './config';
import { type WanVaeAttentionSpec, type WanVaeResampleSpec, type WanVaeResidualSpec, wanVaeDecoderLayout } from './layout';

/** One tensor of the decoder: its state-dict name (the reference's) and shape. */
export interface WanVaeTensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

function residualSpecs(block: WanVaeResidualSpec): WanVaeTensorSpec[] {
  const { prefix: p, inDim, outDim } = block;
  const specs: WanVaeTensorSpec[] = [
    { name: `${p}.residual.0.gamma`, shape: [inDim, 1, 1, 1] },
    { name: `${p}.residual.2.weight`, shape: [outDim, inDim, 3, 3, 3] },
    { name: `${p}.residual.2.bias`, shape: [outDim] },
    { name: `${p}.residual.3.gamma`, shape: [outDim, 1, 1, 1] },
    { name: `${p}.residual.6.weight`, shape: [outDim, outDim, 3, 3, 3] },
    { name: `${p}.residual.6.bias`, shape: [outDim] },
  ];
  if (inDim !== outDim) {
    specs.push({ name: `${p}.shortcut.weight`, shape: [outDim, inDim, 1, 1, 1] }, { name: `${p}.shortcut.bias`, shape: [outDim] });
  }
  return specs;
}

function attentionSpecs(block: WanVaeAttentionSpec): WanVaeTensorSpec[] {
  const { prefix: p, dim } = block;
  return [
    { name: `${p}.norm.gamma`, shape: [dim, 1, 1] },
    { name: `${p}.to_qkv.weight`, shape: [3 * dim, dim, 1, 1] },
    { name: `${p}.to_qkv.bias`, shape: [3 * dim] },
    { name: `${p}.proj.weight`, shape: [dim, dim, 1, 1] },
    { name: `${p}.proj.bias`, shape: [dim] },
  ];
}

function resampleSpecs(block: WanVaeResampleSpec): WanVaeTensorSpec[] {
  const { prefix: p, dim } = block;
  const specs: WanVaeTensorSpec[] = [
    { name: `${p}.resample.1.weight`, shape: [dim / 2, dim, 3, 3] },
    { name: `${p}.resample.1.bias`, shape: [dim / 2] },
  ];
  if (block.mode === 'upsample3d') {
    specs.push({ name: `${p}.time_conv.weight`, shape: [2 * dim, dim, 3, 1, 1] }, { name: `${p}.time_conv.bias`, shape: [2 * dim] });
  }
  return specs;
}

/**
 * Every tensor of the decoder side of `WanVAE_` (`conv2.*`, `decoder.*`) in state-dict order, with the reference's
 * names: a real `Wan2.1_VAE.pth` holds exactly these (108 for `wan-vae`) plus the encoder's (`encoder.*`, `conv1.*`).
 */
export function wanVaeTensorSpecs(config: WanVaeConfig): WanVaeTensorSpec[] {
  const layout = wanVaeDecoderLayout(config);
  const z = layout.zDim;
  const d0 = layout.dims[0] as number;
  const specs: WanVaeTensorSpec[] = [
    { name: 'conv2.weight', shape: [z, z, 1, 1, 1] },
    { name: 'conv2.bias', shape: [z] },
    { name: 'decoder.conv1.weight', shape: [d0, z, 3, 3, 3] },
    { name: 'decoder.conv1.bias', shape: [d0] },
    ...residualSpecs(layout.middle[0]),
    ...attentionSpecs(layout.middle[1]),
    ...residualSpecs(layout.middle[2]),
  ];
  for (const stage of layout.stages) {
    for (const block of stage.residuals) specs.push(...residualSpecs(block));
    if (stage.resample !== null) specs.push(...resampleSpecs(stage.resample));
  }
  specs.push(
    { name: 'decoder.head.0.gamma', shape: [layout.headDim, 1, 1, 1] },
    { name: 'decoder.head.2.weight', shape: [3, layout.headDim, 3, 3, 3] },
    { name: 'decoder.head.2.bias', shape: [3] },
  );
  return specs;
}
