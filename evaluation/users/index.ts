/**
 * The user kinds of `--user SPEC`, one file each, listed once here: adding a kind is a new file and
 * a line in USER_KINDS.
 */
import type { ClickModel } from '../../mechanism/click-model.ts';
import { SpecGrammar, type SpecNode } from '../../mechanism/spec.ts';
import { parametricUser } from './embedded.ts';
import type { UserKind } from './kind.ts';
import { localJudge } from './local.ts';
import { openaiJudge } from './openai.ts';

export const USER_KINDS = [parametricUser, openaiJudge, localJudge] as const;

type SpecOf<K> = K extends UserKind<infer S> ? S : never;
export type UserSpec = SpecOf<(typeof USER_KINDS)[number]>;

const grammar = new SpecGrammar<UserSpec>('user', USER_KINDS);
const byKind = new Map<string, UserKind<SpecNode>>(USER_KINDS.map((k) => [k.kind, k as UserKind<SpecNode>]));

export const parseUserSpec = (text: string): UserSpec => grammar.parse(text);
/** Every kind's form, for --help. */
export const userUsage = (): string => grammar.usage();

export function resolveUserSpec(spec: UserSpec, opts: { worldSeed?: number } = {}): Promise<ClickModel> {
  return byKind.get(spec.kind)!.resolve(spec, opts);
}
