import { FpsAttnError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';

describe('CheckpointError', () => {
  it('names the file, the tensor and the rule', () => {
    const error = new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_TENSOR, file: 'model.safetensors', tensor: 'blocks.0.q', rule: 'dtype "F4" is unknown' });
    expect(error.message).toBe('model.safetensors: tensor "blocks.0.q" dtype "F4" is unknown');
    expect(error).toMatchObject({ name: 'CheckpointError', code: 'FPSATTN_WAN_CHECKPOINT_INVALID_TENSOR', file: 'model.safetensors', tensor: 'blocks.0.q', rule: 'dtype "F4" is unknown' });
    expect(FpsAttnError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
  });

  it('names only the file when no tensor is involved, escapes tensor names and keeps the cause', () => {
    const cause = new Error('EIO');
    const error = new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.IO_ERROR, file: 'a.safetensors', rule: 'cannot read', cause });
    expect(error.message).toBe('a.safetensors: cannot read');
    expect(error.tensor).toBeNull();
    expect(error.cause).toBe(cause);
    expect(new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.UNKNOWN_TENSOR, file: 'f', tensor: 'a"b', rule: 'r' }).message).toBe('f: tensor "a\\"b" r');
  });

  it('has one FPSATTN_WAN_CHECKPOINT_ code per kind of problem', () => {
    const codes = Object.values(WAN_CHECKPOINT_ERROR_CODES);
    expect(Object.isFrozen(WAN_CHECKPOINT_ERROR_CODES)).toBe(true);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [key, code] of Object.entries(WAN_CHECKPOINT_ERROR_CODES)) expect(code).toBe(`FPSATTN_WAN_CHECKPOINT_${key}`);
  });
});
