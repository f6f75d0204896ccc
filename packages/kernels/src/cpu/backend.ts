import type { Fp8Format } from '@fpsattn/fp8';
import type { MemoryStats } from '../core/addon-types';
import { BaseBackend, type QuantizeQKOptions, type QuantizedQK } from '../core/backend';
import { type GroupMap, type RowMap, mapIndices } from '../core/maps';
import { HostStorage, type Storage, type Tensor, hostView, numelOf } from '../core/tensor';
import { DTYPE_BYTES } from '../core/dtype';
import { channelAmaxCpu, channelMeanCpu, dequantizeRowsCpu, dequantizeVCpu, gatherRowsCpu, quantizeRowsCpu, quantizeVCpu, scatterRowsCpu } from './twins';

/** Runs the CPU twins on host tensors. Synchronous; same validation and results as the CUDA backend. */
export class CpuBackend extends BaseBackend {
  readonly name = 'cpu' as const;

  protected createStorage(byteLength: number, name: string | undefined): Storage {
    return new HostStorage(byteLength, name);
  }

  protected execPermute(src: Tensor, dst: Tensor, map: RowMap, scatter: boolean, amax?: Tensor<'f32'>): void {
    // Move raw bytes: the kernels are dtype-agnostic too.
    const rowBytes = numelOf(src.shape.slice(1)) * DTYPE_BYTES[src.dtype];
    const s = bytesOf(src);
    const d = bytesOf(dst);
    if (scatter) scatterRowsCpu(s, rowBytes, mapIndices(map)!, d);
    else gatherRowsCpu(s, rowBytes, mapIndices(map)!, d);
    if (amax) channelAmaxCpu(hostView(dst as Tensor<'bf16'>), dst.shape[0] as number, rowBytes / 2, hostView(amax));
  }

  protected execChannelMean(x: Tensor<'bf16'>, mean: Tensor<'f32'>): void {
    channelMeanCpu(hostView(x), x.shape[0] as number, x.shape[1] as number, hostView(mean));
  }

  protected execQuantizeQK(x: Tensor<'bf16'>, o: QuantizeQKOptions, codes: Tensor<Fp8Format>, scales: Tensor<'f32'>): QuantizedQK['path'] {
    quantizeRowsCpu({
      x: hostView(x),
      rows: x.shape[0] as number,
      cols: x.shape[1] as number,
      headDim: o.headDim,
      groupOfRow: mapIndices(o.groups)!,
      groupCount: o.groups.groupCount,
      format: o.format,
      mean: o.mean ? hostView(o.mean) : undefined,
      codes: hostView(codes),
      scales: hostView(scales),
    });
    return 'cpu';
  }

  protected execQuantizeV(v: Tensor<'bf16'>, codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, tokenStride: number, format: Fp8Format, amax?: Tensor<'f32'>): void {
    quantizeVCpu({ v: hostView(v), rows, cols: v.shape[1] as number, tokenStride, format, codesT: hostView(codesT), scales: hostView(scales), amax: amax ? hostView(amax) : undefined });
  }

  protected execDequantizeQK(codes: Tensor<Fp8Format>, scales: Tensor<'f32'>, groups: GroupMap, headDim: number, out: Tensor<'f32'>): void {
    dequantizeRowsCpu({
      codes: hostView(codes),
      scales: hostView(scales),
      groupOfRow: mapIndices(groups)!,
      rows: codes.shape[0] as number,
      cols: codes.shape[1] as number,
      headDim,
      format: codes.dtype,
      out: hostView(out),
    });
  }

  protected execDequantizeV(codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, out: Tensor<'f32'>): void {
    dequantizeVCpu({
      codesT: hostView(codesT),
      scales: hostView(scales),
      rows,
      cols: codesT.shape[0] as number,
      tokenStride: codesT.shape[1] as number,
      format: codesT.dtype,
      out: hostView(out),
    });
  }

  synchronize(): Promise<void> {
    return Promise.resolve();
  }
  memoryStats(): MemoryStats | null {
    return null;
  }
  emptyCache(): void {}
}

function bytesOf(t: Tensor): Uint8Array {
  const s = t.storage as HostStorage;
  return s.bytes.subarray(t.byteOffset, t.byteOffset + t.byteLength);
}
