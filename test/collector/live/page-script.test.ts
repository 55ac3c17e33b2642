import { describe, expect, it } from 'vitest';
import { PAGE_GLOBAL, bundlePageScript, inlineSafe, pageScript } from '../../../collector/live/page-script.js';
import { livePageHtml } from '../../../collector/live/live-page.js';

describe('the live page script bundle', () => {
  it('is one self-contained script that assigns the page global with start()', () => {
    const bundle = bundlePageScript();
    // Nothing left to load: no module syntax, no require, no helper of the TypeScript loader.
    expect(bundle).not.toMatch(/^\s*(import|export)\s/m);
    expect(bundle).not.toMatch(/\brequire\(|__name\(/);
    const page = new Function(`${bundle}; return ${PAGE_GLOBAL};`)() as { start: unknown };
    expect(typeof page.start).toBe('function');
  });

  it('is what the page inlines, started once with the catalogue, the bureau flag, the KPI formats and the tiles the KPI modules declare', () => {
    const html = livePageHtml({ bureau: true });
    const script = html.slice(html.indexOf('<script>') + '<script>'.length, html.lastIndexOf('</script>'));
    expect(script.startsWith(pageScript())).toBe(true);
    expect(script.match(new RegExp(`${PAGE_GLOBAL}\\.start\\(`, 'g'))).toHaveLength(1);
    expect(script).toMatch(/, "zh-CN", true, \{"pue_live":\{[^}]*\},.*\}, \[\{"kpi":"pue","windows":\["15m"\],"label":\["kpi\.pue","window\.15m"\]\},.*\]\);$/);
    expect(livePageHtml()).toMatch(/, "zh-CN", false, \{.*\}, \[.*\]\);<\/script>/);
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('cannot close its script element early', () => {
    expect(inlineSafe('const a = "</script><b>", b = `</SCRIPT >`;')).toBe('const a = "<\\/script><b>", b = `<\\/SCRIPT >`;');
    expect(new Function(`return ${inlineSafe('"</script>"')}`)()).toBe('</script>');
  });
});
