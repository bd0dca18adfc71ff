/**
 * IRPO's configuration, validated in one place (in the manner of TRL's DPOConfig): every field has
 * a default and a description, and `--help` of `train` lists the presets built from them.
 */
import { z } from 'zod';
import { RewardConfig } from '../mechanism/reward.ts';
import { DpoConfig } from './dpo.ts';
import { ExternalTrainerConfig } from './external.ts';

export const IrpoConfig = z.object({
  preset: z.enum(['tiny', 'paper']).default('tiny').describe('Size preset: tiny (minutes on 2 cores) or paper (12k training queries)'),
  epochs: z.number().int().positive().default(3).describe('IRPO epochs T (Algorithm 1; the paper shows 3)'),
  trainQueries: z.number().int().positive().default(2000).describe('Training queries used per epoch (paper: 12,000)'),
  rmSamples: z.number().int().positive().default(10).describe('Responses per query in the reward-model phase (paper: 10)'),
  dpoSamples: z.number().int().min(2).default(5).describe('Responses per query in the LLM phase (paper: 5)'),
  deltaTh: z.number().min(0).default(10).describe('A response is a loser when the winner beats it by more than this reward (paper: 10)'),
  reward: z
    .enum(['pctr', 'oracle', 'shuffled'])
    .default('pctr')
    .describe("Reward model: the fitted pCTR model, the user model's true click probabilities (LLM-Auction (Oracle)), or a control: the pCTR model fitted on clicks permuted across exposures"),
  pctrDataShare: z
    .number()
    .gt(0)
    .max(1)
    .default(1)
    .describe('Share of the online queries whose logs the pCTR model is fitted on (the pCTR-quality figure uses 0.1, 0.3, 1)'),
  candidates: z.number().int().min(0).default(10).describe('Candidate ads per auction (0: the whole catalog)'),
  pctrHistory: z
    .enum(['epoch', 'all'])
    .default('all')
    .describe("Online data each pCTR fit sees: this epoch's (Algorithm 1, starting from the previous weights) or every epoch's so far"),
  pctrEncoder: z
    .string()
    .default('lexical')
    .describe('Frozen text encoder of the pCTR model: lexical, or onnx:all-minilm-l6-v2 / onnx:DIR (after bash scripts/fetch-models.sh)'),
  stepCheck: z
    .number()
    .int()
    .min(0)
    .default(2000)
    .describe("Training queries (at most; all of them in smaller runs) on which each DPO step is checked under the epoch's reward model (kept whole, halved, quartered or dropped); 0 turns the check off (Algorithm 1 as written)"),
  stepCheckMargin: z
    .number()
    .min(0)
    .default(1)
    .describe('A checked step must gain at least this many standard errors (paired over the check queries) to be kept; 0 keeps any step that does not lose'),
  pctrContext: z
    .boolean()
    .default(true)
    .describe("Feed the pCTR model each exposure's context read off the response (insertions, position, woven or listed, title-question similarity); false is the paper's bare Eq. 3 input"),
  pctrEpochs: z.number().int().positive().default(4).describe('Passes over the online data each time the pCTR model is fitted (at least; see pctrMinSteps)'),
  pctrMinSteps: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('At least this many Adam steps per pCTR fit: more passes when the online data is small, the best on the validation responses kept; 0 keeps pctrEpochs as it is'),
  pctrValidationShare: z
    .number()
    .min(0)
    .max(0.5)
    .default(0.1)
    .describe("Share of the fitting queries' logged responses held out to stop the pCTR fit early and calibrate it; 0 turns both off"),
  pctrCalibration: z
    .boolean()
    .default(true)
    .describe('Platt-scale the pCTR model on the validation responses after each fit, so b * pCTR is not biased by predictions squeezed toward the mean click rate'),
  pctrTextDim: z.number().int().positive().default(128).describe('Size of the frozen random projection of the text features fed to the pCTR model'),
  heldOutShare: z.number().min(0).max(0.5).default(0.1).describe('Share of the online data held out to measure the pCTR model (AUC, log loss, calibration)'),
  worldSeed: z.number().int().default(0).describe('Seed of the embedded world (profiles and queries)'),
  trainer: z.enum(['embedded', 'external']).default('embedded').describe('DPO trainer: exact steps on the embedded policy, or an external command (a real LLM on a GPU)'),
  external: ExternalTrainerConfig.optional().describe('The endpoint, trainer command and base model of --trainer external'),
  dpo: DpoConfig.default(DpoConfig.parse({})),
  rewardConfig: RewardConfig.default(RewardConfig.parse({})),
});
export type IrpoConfig = z.infer<typeof IrpoConfig>;

export const PRESETS: Record<'tiny' | 'paper', Partial<IrpoConfig>> = {
  tiny: { trainQueries: 2000, epochs: 3 },
  paper: { trainQueries: 12000, epochs: 3 },
};

/** What a caller may give: any field, each falling back to its default (nested ones too). */
export type IrpoConfigInput = Partial<z.input<typeof IrpoConfig>>;

export function irpoConfig(overrides: IrpoConfigInput & { preset?: 'tiny' | 'paper' }): IrpoConfig {
  const preset = overrides.preset ?? 'tiny';
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return IrpoConfig.parse({ ...PRESETS[preset], ...defined, preset });
}
