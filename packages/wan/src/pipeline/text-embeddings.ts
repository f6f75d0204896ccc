/**
 * The text-embeddings file the sampler reads (the text encoder is a separate stage): one safetensors file holding the
 * umT5 encoder's output for the prompt and the negative prompt, trimmed to their real tokens (wan21-architecture.md 1.6:
 * the DiT zero-pads them to textLen itself).
 *
 *   prompt           [L, textDim]    any float dtype (F32, BF16, F16, F64, F8_*), L <= textLen (512), L >= 0
 *   negative_prompt  [L', textDim]   the same, for classifier-free guidance's unconditional branch
 *   __metadata__     optional strings, e.g. { prompt: "...", negative_prompt: "...", encoder: "umt5-xxl" }
 */
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from '../safetensors/checkpoint-error';
import { openSafetensors } from '../safetensors/reader';
import { writeSafetensors } from '../safetensors/writer';

/** The tensor names of the file. */
export const TEXT_EMBEDDING_TENSORS = Object.freeze({ prompt: 'prompt', negative: 'negative_prompt' });

/** One encoded prompt: [length, textDim] row-major. */
export interface TextEmbedding {
  readonly values: Float32Array;
  readonly length: number;
}

export interface TextEmbeddings {
  readonly prompt: TextEmbedding;
  readonly negative: TextEmbedding;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Reads and checks a text-embeddings file against the model's textDim and textLen. */
export async function readTextEmbeddings(options: { path: string; textDim: number; textLen: number }): Promise<TextEmbeddings> {
  const { path, textDim, textLen } = options;
  const file = await openSafetensors(path);
  try {
    const read = async (name: string): Promise<TextEmbedding> => {
      const info = file.tensors.get(name);
      const bad = (rule: string): never => {
        throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_TENSOR, file: path, tensor: name, rule });
      };
      if (info === undefined) {
        throw new CheckpointError({
          code: WAN_CHECKPOINT_ERROR_CODES.TENSOR_MISSING,
          file: path,
          tensor: name,
          rule: `is missing: a text-embeddings file holds "${TEXT_EMBEDDING_TENSORS.prompt}" and "${TEXT_EMBEDDING_TENSORS.negative}", [tokens, ${textDim}] each`,
        });
      }
      const shape = info.shape;
      if (shape.length !== 2 || shape[1] !== textDim) bad(`has shape [${shape.join(', ')}], expected [tokens, ${textDim}] (the text encoder's width)`);
      const length = shape[0] as number;
      if (length > textLen) bad(`has ${length} tokens, more than the model's text length ${textLen}: trim it to the real tokens`);
      const values = await file.readAsFloat32(name);
      const at = values.findIndex((v) => !Number.isFinite(v));
      if (at >= 0) bad(`holds a non-finite value ${values[at]} at element ${at}`);
      return { values, length };
    };
    return { prompt: await read(TEXT_EMBEDDING_TENSORS.prompt), negative: await read(TEXT_EMBEDDING_TENSORS.negative), metadata: file.metadata };
  } finally {
    await file.close();
  }
}

/** Writes a text-embeddings file (F32), through a temporary name (writeSafetensors). */
export async function writeTextEmbeddings(options: {
  path: string;
  textDim: number;
  prompt: TextEmbedding;
  negative: TextEmbedding;
  metadata?: Readonly<Record<string, string>>;
}): Promise<void> {
  const { path, textDim, prompt, negative } = options;
  const tensor = (e: TextEmbedding) => ({ dtype: 'F32' as const, shape: [e.length, textDim], data: e.values });
  await writeSafetensors({
    path,
    tensors: { [TEXT_EMBEDDING_TENSORS.prompt]: tensor(prompt), [TEXT_EMBEDDING_TENSORS.negative]: tensor(negative) },
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}
