/**
 * The pCTR model's configuration (its fields carry the paper's hyperparameters as defaults) and
 * its JSON checkpoint format. The model itself is in pctr.ts.
 */
import { z } from 'zod';
import type { PctrCalibration } from './pctr-calibration.ts';

export const PctrConfig = z.strictObject({
  userDim: z.number().int().positive().default(64).describe('Size of the learnable user-id embedding e_h (paper: 64)'),
  adDim: z.number().int().positive().default(32).describe('Size of the learnable ad-id embedding e_{a_i} (paper: 32)'),
  hidden: z
    .array(z.number().int().positive())
    .default(() => [128, 64, 32])
    .describe('Hidden layer widths of the MLP, each followed by a ReLU (paper: 128, 64, 32)'),
  lr: z.number().positive().default(1e-3).describe('Adam learning rate (paper: 1e-3)'),
  batchSize: z.number().int().positive().default(256).describe('Mini-batch size of fit (paper: 256)'),
  epochs: z.number().int().positive().default(2).describe('Passes over the examples in one call of fit'),
  weightDecay: z.number().min(0).default(0).describe('Decoupled (AdamW-style) weight decay per step; 0 is plain Adam as in the paper'),
  seed: z.number().int().default(0).describe('Seed of the initialization, the text projection, the shuffling and the id dropout'),
  textDim: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(128)
    .describe(
      'Size of the fixed random projection of each text embedding (drawn once from the seed, never trained, like the encoder); null uses the encoder output as it is',
    ),
  idDropout: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe('Training-time probability of replacing a user or ad id by the shared "unknown" row, so that row learns an average; 0 leaves it at zero'),
  textCacheMB: z.number().positive().default(256).describe('Memory cap of the cache of text features; it is emptied when a call would go past it'),
  contextFeatures: z
    .boolean()
    .default(false)
    .describe(
      "Append the exposure's context, read off (x, a_i, y): insertions in the response, the ad's position among them, woven or listed, and the title's lexical similarity to the question",
    ),
});
export type PctrConfig = z.infer<typeof PctrConfig>;
export type PctrConfigInput = z.input<typeof PctrConfig>;

/** Training hyperparameters that may change between fits of the same network (see initFrom). */
export type PctrTrainingOverrides = Partial<Pick<PctrConfig, 'lr' | 'batchSize' | 'epochs' | 'weightDecay' | 'idDropout'>>;

export const PCTR_FORMAT = 'llm-auction-pctr';
export const PCTR_VERSION = 1;

/** The JSON checkpoint. Tensors are base64 of their float64 bytes, so a round trip is exact. */
export interface PctrCheckpoint {
  format: typeof PCTR_FORMAT;
  version: typeof PCTR_VERSION;
  config: PctrConfig;
  encoder: { name: string; dim: number };
  /** Fingerprint of the random projection, to detect a change of random generator on load. */
  projectionChecksum: number | null;
  /** Known ids in row order; row 0 of each table is the shared "unknown" row and is not listed. */
  users: string[];
  ads: string[];
  params: Record<string, string>;
  /** Adam's moments, so resuming from a checkpoint continues exactly; absent in slim saves. */
  optimizer?: { t: number; m: Record<string, string>; v: Record<string, string> };
  state: { steps: number; fits: number; examplesSeen: number };
  /** Platt scaling applied to the network's output; absent: none. */
  calibration?: PctrCalibration | null;
}

export const Checkpoint = z.object({
  format: z.literal(PCTR_FORMAT),
  version: z.literal(PCTR_VERSION),
  config: PctrConfig,
  encoder: z.object({ name: z.string(), dim: z.number().int().positive() }),
  projectionChecksum: z.number().nullable(),
  users: z.array(z.string()),
  ads: z.array(z.string()),
  params: z.record(z.string(), z.string()),
  optimizer: z.object({ t: z.number().int().min(0), m: z.record(z.string(), z.string()), v: z.record(z.string(), z.string()) }).optional(),
  state: z.object({ steps: z.number().int().min(0), fits: z.number().int().min(0), examplesSeen: z.number().min(0) }),
  calibration: z.object({ a: z.number(), c: z.number(), n: z.number().int().min(0), clicks: z.number().int().min(0) }).nullable().optional(),
});
