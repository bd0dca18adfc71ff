/**
 * d3-node ships no type declarations and @types/d3 is not installed (the package set is fixed),
 * so the selection API is typed loosely here. Only reports/svg.ts touches it.
 */
declare module 'd3-node' {
  export class D3Node {
    constructor(options?: { selector?: string; container?: string; styles?: string });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly d3: any;
    /** The jsdom window (DOMParser, XMLSerializer…). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly window: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    createSVG(width?: number, height?: number, attrs?: Record<string, string | number>): any;
    svgString(): string;
  }
}
