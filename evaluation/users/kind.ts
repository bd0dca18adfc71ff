/**
 * What a user kind (`--user SPEC`) is: its text form, on the same grammar machinery as mechanism
 * specs (mechanism/spec.ts), and how its spec becomes the click model that plays the user. Each kind
 * is one file in this folder, listed once in index.ts.
 */
import type { ClickModel } from '../../mechanism/click-model.ts';
import type { KindGrammar, SpecNode } from '../../mechanism/spec.ts';

export interface UserKind<S extends SpecNode> extends KindGrammar<S> {
  resolve(spec: S, ctx: { worldSeed?: number }): Promise<ClickModel>;
}
