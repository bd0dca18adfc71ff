import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertion } from '../mechanism/format.ts';
import { parseResponse, ResponseParser } from '../mechanism/parser.ts';

const ads = [
  { id: 'Ad-0001', title: 'Ceramic Pour-Over Coffee Dripper' },
  { id: 'Ad-0002', title: 'Everyday Yoga Mat 6mm' },
  { id: 'Ad-0003', title: 'Trail Running Shoes' },
];

const kinds = (text: string) => parseResponse(text, ads).errors.map((e) => e.kind);
const exposed = (text: string) => parseResponse(text, ads).exposures.map((e) => e.id);

describe('response parser: hand-written cases', () => {
  it('accepts a valid insertion as an exposure with its offsets', () => {
    const text = 'Try a mat: @Everyday Yoga Mat 6mm@[Ad-0002] today.';
    const parsed = parseResponse(text, ads);
    expect(parsed.errors).toEqual([]);
    expect(parsed.exposures).toEqual([{ id: 'Ad-0002', title: 'Everyday Yoga Mat 6mm', start: 11, end: 43 }]);
    expect(text.slice(11, 43)).toBe('@Everyday Yoga Mat 6mm@[Ad-0002]');
  });

  it('flags a hallucinated id as unknown_id, not an exposure', () => {
    expect(kinds('Buy @Magic Beans@[Ad-0999] now')).toEqual(['unknown_id']);
    expect(exposed('Buy @Magic Beans@[Ad-0999] now')).toEqual([]);
  });

  it('flags a changed title as title_mismatch', () => {
    expect(kinds('A @Yoga Mat@[Ad-0002] helps')).toEqual(['title_mismatch']);
    expect(kinds('A @everyday yoga mat 6mm@[Ad-0002] helps')).toEqual(['title_mismatch']);
    expect(kinds('A @Trail Running Shoes@[Ad-0002] helps')).toEqual(['title_mismatch']);
    expect(exposed('A @Yoga Mat@[Ad-0002] helps')).toEqual([]);
  });

  it('tolerates extra white space inside the title', () => {
    expect(exposed('A @ Everyday  Yoga Mat 6mm @[Ad-0002]')).toEqual(['Ad-0002']);
  });

  it('flags broken markup as malformed', () => {
    expect(kinds('A mat [Ad-0002] helps')).toEqual(['malformed']);
    expect(kinds('A mat Everyday Yoga Mat 6mm Ad-0002 helps')).toEqual(['malformed']);
    expect(kinds('A mat @Everyday Yoga Mat 6mm@ helps')).toEqual(['malformed']);
    expect(kinds('A mat @Everyday Yoga Mat 6mm@[Ad-0002 helps')).toEqual(['malformed']);
    expect(kinds('A mat @Everyday Yoga Mat 6mm[Ad-0002] helps')).toEqual(['malformed']);
    expect(kinds('A mat @@[Ad-0002] helps')).toEqual(['malformed']);
    expect(kinds('A mat @Everyday Yoga Mat 6mm@[0002] helps')).toEqual(['malformed']);
    expect(exposed('A mat @Everyday Yoga Mat 6mm@[Ad-0002 helps')).toEqual([]);
  });

  it('flags a repeated insertion as duplicate and keeps the first as the exposure', () => {
    const text = `${insertion(ads[0]!)} and again ${insertion(ads[0]!)}`;
    const parsed = parseResponse(text, ads);
    expect(parsed.exposures.map((e) => e.id)).toEqual(['Ad-0001']);
    expect(parsed.errors.map((e) => e.kind)).toEqual(['duplicate']);
    expect(parsed.exposures[0]!.start).toBe(0);
  });

  it('reads several ads and leaves ordinary text alone', () => {
    const text = [
      `Coffee first: ${insertion(ads[0]!)}.`,
      'Write to me@example.com or @someone on social media; this plan is Ad-free.',
      `Then run: ${insertion(ads[2]!)}.`,
    ].join('\n');
    const parsed = parseResponse(text, ads);
    expect(parsed.exposures.map((e) => e.id)).toEqual(['Ad-0001', 'Ad-0003']);
    expect(parsed.errors).toEqual([]);
  });

  it('finds an insertion that follows a stray @ (nested @)', () => {
    expect(exposed('mail me@home @Trail Running Shoes@[Ad-0003]')).toEqual(['Ad-0003']);
    expect(exposed('@@@Trail Running Shoes@[Ad-0003]')).toEqual(['Ad-0003']);
  });

  it('matches titles in display form (markup characters in catalog titles are neutralized)', () => {
    const odd = [{ id: 'Ad-0100', title: 'Mug [Large] @ Home\nEdition' }];
    const text = `Grab ${insertion(odd[0]!)}`;
    expect(text).toBe('Grab @Mug (Large) (at) Home Edition@[Ad-0100]');
    expect(parseResponse(text, odd).exposures.map((e) => e.id)).toEqual(['Ad-0100']);
  });

  it('orders errors by position and counts each error once', () => {
    const text = '[Ad-0001] then @X@[Ad-0777] then @Yoga@[Ad-0002] then Ad-0003';
    const parsed = parseResponse(text, ads);
    expect(parsed.errors.map((e) => e.kind)).toEqual(['malformed', 'unknown_id', 'title_mismatch', 'malformed']);
  });

  it('returns nothing for non-string input instead of throwing', () => {
    const p = new ResponseParser(ads);
    expect(p.parse(undefined)).toEqual({ exposures: [], errors: [] });
    expect(p.parse(null)).toEqual({ exposures: [], errors: [] });
    expect(p.parse(42)).toEqual({ exposures: [], errors: [] });
  });
});

/** Text built from pieces that stress the scanner: markup characters, ids, titles, unicode. */
const piece = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('@', '@@', '[', ']', '@[', ']@', 'Ad-', 'Ad-0001', '[Ad-0002]', '\n', ' ', '💡', '\u0000', '\u2028'),
  fc.constantFrom(...ads.map((a) => a.title)),
  fc.constantFrom(...ads.map((a) => insertion(a))),
  fc.constantFrom('@Everyday Yoga Mat 6mm@[', '@Magic@[Ad-0999]', '@Trail Running Shoes@'),
);
const messy = fc.array(piece, { maxLength: 60 }).map((p) => p.join(''));

describe('response parser: fuzzing', () => {
  it('never throws, and every reported span is inside the text and well ordered', () => {
    fc.assert(
      fc.property(messy, (text) => {
        const parsed = parseResponse(text, ads);
        for (const s of [...parsed.exposures, ...parsed.errors]) {
          expect(s.start).toBeGreaterThanOrEqual(0);
          expect(s.end).toBeLessThanOrEqual(text.length);
          expect(s.start).toBeLessThan(s.end);
        }
        for (let k = 1; k < parsed.errors.length; k++) expect(parsed.errors[k]!.start).toBeGreaterThanOrEqual(parsed.errors[k - 1]!.start);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('exposures are candidates, each at most once, and their markup is exactly the insertion', () => {
    fc.assert(
      fc.property(messy, (text) => {
        const parsed = parseResponse(text, ads);
        const ids = parsed.exposures.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of parsed.exposures) {
          const ad = ads.find((a) => a.id === e.id);
          expect(ad).toBeDefined();
          expect(text.slice(e.start, e.end).replace(/\s+/g, ' ')).toMatch(/^@ ?[^@]+ ?@\[Ad-\d{4}\]$/);
        }
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('finds every ad it was given when the rest of the text has no markup', () => {
    const plain = fc.string().map((s) => s.replace(/[@[\]]|Ad-/g, ''));
    fc.assert(
      fc.property(fc.array(fc.tuple(plain, fc.constantFrom(...ads)), { maxLength: 10 }), plain, (parts, tail) => {
        const text = parts.map(([p, ad]) => `${p} ${insertion(ad)} `).join('') + tail;
        const parsed = parseResponse(text, ads);
        const distinct = [...new Set(parts.map(([, ad]) => ad.id))];
        expect(parsed.exposures.map((e) => e.id)).toEqual(distinct);
        expect(parsed.errors.every((e) => e.kind === 'duplicate')).toBe(true);
        expect(parsed.errors.length).toBe(parts.length - distinct.length);
      }),
      { numRuns: 500, seed: 3 },
    );
  });

  it('handles 1 MB adversarial inputs without blowing up', () => {
    const MB = 1 << 20;
    const inputs = [
      '@'.repeat(MB),
      '@a'.repeat(MB / 2),
      'Ad-'.repeat(MB / 3),
      '@x@['.repeat(MB / 4),
      '['.repeat(MB),
      `@${'a'.repeat(MB)}`,
      `${insertion(ads[0]!)} `.repeat(Math.floor(MB / 44)),
      '💡@[Ad-1]'.repeat(MB / 10),
    ];
    for (const text of inputs) {
      const parsed = parseResponse(text, ads);
      expect(Array.isArray(parsed.exposures)).toBe(true);
    }
  });
});
