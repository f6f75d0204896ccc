// Pins the public types of the safetensors part of @fpsattn/wan (checked by tsc --noEmit).
import { describe, expectTypeOf, it } from 'vitest';
import {
  type Checkpoint,
  type CheckpointTensorInfo,
  type SafetensorsArrayOf,
  type SafetensorsDtype,
  type SafetensorsFile,
  type WanCheckpointErrorCode,
  CheckpointError,
  openCheckpoint,
  openSafetensors,
  tensorToFloat32,
  writeSafetensors,
} from '../index';

describe('public types of the safetensors reader and writer', () => {
  it('opens files and checkpoints that can be disposed with await using', () => {
    expectTypeOf(openSafetensors).returns.resolves.toEqualTypeOf<SafetensorsFile>();
    expectTypeOf(openCheckpoint).returns.resolves.toEqualTypeOf<Checkpoint>();
    expectTypeOf<Checkpoint>().toMatchTypeOf<AsyncDisposable>();
    expectTypeOf<Checkpoint['tensors']>().toEqualTypeOf<ReadonlyMap<string, CheckpointTensorInfo>>();
    expectTypeOf<SafetensorsFile['readAsFloat32']>().returns.resolves.toEqualTypeOf<Float32Array>();
  });

  it('maps each dtype to the typed array read() returns', () => {
    expectTypeOf<SafetensorsArrayOf['BF16']>().toEqualTypeOf<Uint16Array>();
    expectTypeOf<SafetensorsArrayOf['I64']>().toEqualTypeOf<BigInt64Array>();
    expectTypeOf(tensorToFloat32<'F8_E4M3'>).parameter(0).toEqualTypeOf<{ dtype: 'F8_E4M3'; data: Uint8Array }>();
    // @ts-expect-error F4 is not a safetensors dtype here
    const f4: SafetensorsDtype = 'F4';
    void f4;
  });

  it('writes from one options object and throws CheckpointErrors with typed codes', () => {
    expectTypeOf(writeSafetensors).parameter(0).toHaveProperty('path').toEqualTypeOf<string>();
    // @ts-expect-error the writer takes one options object, not positional arguments
    void writeSafetensors('x.safetensors', {});
    expectTypeOf<CheckpointError['code']>().toEqualTypeOf<WanCheckpointErrorCode>();
    expectTypeOf<CheckpointError['tensor']>().toEqualTypeOf<string | null>();
  });
});
