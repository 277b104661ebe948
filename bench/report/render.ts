import type { VegaLiteSpec } from './plots';

/**
 * Renders a Vega-Lite spec to SVG offline (vega + vega-lite, headless `renderer: 'none'`).
 * Both packages are ES modules only; the compiled CommonJS build reaches them through a real
 * dynamic import, which TypeScript would otherwise rewrite into require().
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<unknown>;

interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: string }) => { toSVG(): Promise<string>; finalize(): void };
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vega = (await importEsm('vega')) as VegaModule;
  const vl = (await importEsm('vega-lite')) as VegaLiteModule;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
