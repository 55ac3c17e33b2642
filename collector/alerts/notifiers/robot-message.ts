import type { AlertRecord } from '../alert-record.js';
import { formatDuration, spellDuration } from '../duration.js';
import { wasSuperseded } from '../lifecycle.js';
import type { Severity } from '../rule-schema.js';
import type { Delivery } from './notifier.js';

/**
 * What a WeCom or DingTalk group robot posts for an alert: Chinese first (the on-call groups of
 * Chinese sites read Chinese), English beside it when asked. One message per alert state, or, when
 * more are owed than the robot's rate limit allows now, one digest listing many (both vendors ask
 * monitoring systems to merge bursts into one markdown summary). Every message fits the vendor's
 * byte limit (UTF-8), shortening the least useful part first.
 *
 * The summary, description and runbook are the rule's own texts (a site may write its rules in
 * Chinese); labels, times and durations are rendered here.
 */
export const ROBOT_LANGUAGES = ['zh', 'zh-en'] as const;
export type RobotLanguage = (typeof ROBOT_LANGUAGES)[number];

/** `wecom`: WeCom markdown (font colours, quotes); `dingtalk`: DingTalk markdown; `text`: plain. */
export type RobotMarkup = 'wecom' | 'dingtalk' | 'text';

export interface RobotTextOptions {
  language: RobotLanguage;
  /** IANA zone the times are shown in (the site's local time). */
  timezone: string;
  markup: RobotMarkup;
  /** The vendor's limit for the content, in UTF-8 bytes. */
  max_bytes: number;
}

export interface RobotMessage {
  /** DingTalk shows it in the conversation list and notification. */
  title: string;
  content: string;
  /** The alert ids this message announces. */
  ids: string[];
  /** The content had to be cut to fit `max_bytes`. */
  truncated: boolean;
}

type Phase = 'firing' | 'resolved' | 'superseded';

export function phaseOf(d: Delivery): Phase {
  if (d.state === 'firing') return 'firing';
  return wasSuperseded(d.record) ? 'superseded' : 'resolved';
}

const SEVERITY: Record<Severity, [string, string]> = { critical: ['严重', 'critical'], warning: ['警告', 'warning'], info: ['提示', 'info'] };
const PHASE: Record<Phase, [string, string]> = {
  firing: ['告警', 'FIRING'],
  resolved: ['已恢复', 'RESOLVED'],
  superseded: ['已升级', 'ESCALATED'],
};
/** WeCom markdown knows three font colours: info (green), comment (grey), warning (orange-red). */
const WECOM_COLOUR: Record<Phase, string> = { firing: 'warning', resolved: 'info', superseded: 'comment' };

const PLACE: [key: string, zh: string, en: string][] = [
  ['site', '站点', 'site'],
  ['hall', '机房', 'hall'],
  ['rack_group', '机柜组', 'rack group'],
  ['rack', '机柜', 'rack'],
  ['device', '设备', 'device'],
  ['point', '测点', 'point'],
  ['agent', '采集代理', 'agent'],
  ['kpi', '指标', 'KPI'],
  ['window', '窗口', 'window'],
];

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** At most `max` UTF-8 bytes, cut on a character boundary, ending with `mark` when cut. */
export function truncateUtf8(s: string, max: number, mark = '…'): string {
  if (utf8Bytes(s) <= max) return s;
  const budget = Math.max(0, max - utf8Bytes(mark));
  let out = '';
  let used = 0;
  for (const ch of s) {
    const b = utf8Bytes(ch);
    if (used + b > budget) break;
    out += ch;
    used += b;
  }
  return out + mark;
}

/** Rule texts and ids are shown as text: no tags (WeCom's <font>, <@user>) from a rule's wording. */
function clean(s: string): string {
  return s.replace(/[<>]/g, (c) => (c === '<' ? '‹' : '›'));
}
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

function label(zh: string, en: string, language: RobotLanguage): string {
  return language === 'zh-en' ? `${zh} ${en}` : zh;
}

/** `2026-06-01 08:00:00`, in the given zone. */
export function localTime(ms: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const v = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${v('year')}-${v('month')}-${v('day')} ${v('hour')}:${v('minute')}:${v('second')}`;
}

/** `1小时5分`. */
export function durationZh(ms: number): string {
  return spellDuration(ms, ['天', '小时', '分', '秒']);
}

function durationText(ms: number, language: RobotLanguage): string {
  return language === 'zh-en' ? `${durationZh(ms)} (${formatDuration(ms)})` : durationZh(ms);
}

function placeText(r: AlertRecord, o: RobotTextOptions): string {
  const parts: string[] = [];
  for (const [key, zh, en] of PLACE) {
    const v = r.labels[key];
    if (v !== undefined) parts.push(`${label(zh, en, o.language)} ${clean(v)}`);
  }
  return parts.join(' / ');
}

function headline(d: Delivery, o: RobotTextOptions): string {
  const phase = phaseOf(d);
  const [sevZh, sevEn] = SEVERITY[d.record.severity];
  const [phZh, phEn] = PHASE[phase];
  const zh = `【${sevZh}】${phZh}`;
  return o.language === 'zh-en' ? `${zh} ${sevEn.toUpperCase()} ${phEn}` : zh;
}

/** The short title: DingTalk's `title`, the first line everywhere. */
function titleOf(d: Delivery, o: RobotTextOptions): string {
  return `${headline(d, o)} ${d.record.name}`;
}

interface Section {
  text: string;
  /** Lower is dropped first when the message is too long. */
  keep: number;
}

function sections(d: Delivery, now_ms: number, o: RobotTextOptions): Section[] {
  const r = d.record;
  const phase = phaseOf(d);
  const L = (zh: string, en: string) => label(zh, en, o.language);
  const md = o.markup !== 'text';
  const line = (name: string, value: string) => (o.markup === 'wecom' ? `> ${name}：${value}` : md ? `- ${name}：${value}` : `${name}：${value}`);
  const out: Section[] = [];

  const title = titleOf(d, o);
  if (o.markup === 'wecom') out.push({ text: `**<font color="${WECOM_COLOUR[phase]}">${headline(d, o)}</font> ${clean(r.name)}**`, keep: 9 });
  else if (o.markup === 'dingtalk') out.push({ text: `### ${clean(title)}`, keep: 9 });
  else out.push({ text: title, keep: 9 });
  out.push({ text: md ? `**${clean(oneLine(r.summary))}**` : clean(oneLine(r.summary)), keep: 8 });
  if (phase === 'superseded') out.push({ text: L('同一位置的更高级别告警已触发，本告警暂停通知。', 'A more severe alert of the same place is firing; this one is held back.'), keep: 7 });

  const [sevZh, sevEn] = SEVERITY[r.severity];
  const facts: string[] = [line(L('级别', 'severity'), `${sevZh} (${sevEn})`), line(L('位置', 'where'), placeText(r, o))];
  if (r.value !== null) facts.push(line(L('数值', 'value'), String(r.value)));
  if (r.starts_at !== null) facts.push(line(L('开始', 'started'), `${localTime(r.starts_at, o.timezone)} (${o.timezone})`));
  if (phase === 'firing' && r.starts_at !== null) facts.push(line(L('已持续', 'firing for'), durationText(now_ms - r.starts_at, o.language)));
  if (phase !== 'firing' && r.ends_at !== null) {
    facts.push(line(L('结束', 'ended'), `${localTime(r.ends_at, o.timezone)} (${o.timezone})`));
    if (r.starts_at !== null) facts.push(line(L('共持续', 'lasted'), durationText(r.ends_at - r.starts_at, o.language)));
  }
  out.push({ text: facts.join('\n'), keep: 6 });

  if (r.runbook !== null && phase === 'firing') out.push({ text: line(L('处置', 'runbook'), clean(oneLine(r.runbook))), keep: 5 });
  if (r.runbook_url !== null) out.push({ text: md ? `[${L('处置手册', 'runbook')}](${r.runbook_url})` : `${L('处置手册', 'runbook')}：${r.runbook_url}`, keep: 4 });
  if (r.description && phase === 'firing') out.push({ text: clean(r.description), keep: 2 });
  out.push({ text: `${L('告警 ID', 'alert id')}：${r.id}`, keep: 3 });
  return out;
}

/** One message for one alert state, within `max_bytes` (`suffix`, e.g. @-mentions, always kept). */
export function singleMessage(d: Delivery, now_ms: number, o: RobotTextOptions, suffix = ''): RobotMessage {
  const parts = sections(d, now_ms, o);
  const join = (ps: Section[]) => ps.map((p) => p.text).join('\n') + suffix;
  const budget = o.max_bytes;
  let kept = parts;
  // Drop the least useful sections until it fits; the headline and summary always stay.
  for (const floor of [2, 3, 4, 5]) {
    if (utf8Bytes(join(kept)) <= budget) break;
    kept = kept.filter((p) => p.keep > floor);
  }
  let content = join(kept);
  let truncated = kept.length < parts.length;
  if (utf8Bytes(content) > budget) {
    content = truncateUtf8(join(kept.filter((p) => p.keep >= 8)).slice(0, -suffix.length || undefined), budget - utf8Bytes(suffix)) + suffix;
    truncated = true;
  }
  return { title: truncateUtf8(titleOf(d, o), 128), content, ids: [d.record.id], truncated };
}

/** One line of a digest. */
function digestLine(d: Delivery, now_ms: number, o: RobotTextOptions): string {
  const r = d.record;
  const phase = phaseOf(d);
  const [sevZh] = SEVERITY[r.severity];
  const [phZh, phEn] = PHASE[phase];
  const state = o.language === 'zh-en' ? `${sevZh}·${phZh} ${phEn}` : `${sevZh}·${phZh}`;
  const place = ['site', 'hall', 'rack_group', 'rack', 'device', 'agent'].flatMap((k) => (r.labels[k] !== undefined ? [r.labels[k] as string] : [])).join('/');
  const when =
    phase === 'firing' && r.starts_at !== null
      ? `${localTime(r.starts_at, o.timezone).slice(5)} +${durationZh(now_ms - r.starts_at)}`
      : r.ends_at !== null && r.starts_at !== null
        ? `${localTime(r.ends_at, o.timezone).slice(5)} ${durationZh(r.ends_at - r.starts_at)}`
        : '';
  const fields = [`【${state}】${r.name}`, place, ...(r.value !== null ? [String(r.value)] : []), when, oneLine(r.summary)].filter((f) => f !== '');
  const text = clean(fields.join(' · '));
  return truncateUtf8(o.markup === 'text' ? text : `- ${text}`, 400);
}

/**
 * Digests for a burst: the deliveries packed in order, each message up to `max_bytes`. A delivery
 * is never split across messages.
 */
export function digestMessages(batch: readonly Delivery[], now_ms: number, o: RobotTextOptions, suffix = ''): RobotMessage[] {
  const out: RobotMessage[] = [];
  const lines = batch.map((d) => ({ id: d.record.id, text: digestLine(d, now_ms, o) }));
  const head = (ds: readonly Delivery[]) => {
    const firing = ds.filter((d) => d.state === 'firing').length;
    const zh = `告警汇总：${ds.length} 条（触发 ${firing}，恢复/升级 ${ds.length - firing}）`;
    const t = o.language === 'zh-en' ? `${zh} / ${ds.length} alert notifications` : zh;
    return o.markup === 'dingtalk' ? `### ${t}` : o.markup === 'wecom' ? `**${t}**` : t;
  };
  // Room for the header: a part's counts have no more digits than the whole batch's.
  const reserve = utf8Bytes(head(batch)) + 8 + utf8Bytes(suffix) + 1;
  let i = 0;
  while (i < lines.length) {
    const start = i;
    let used = reserve;
    while (i < lines.length) {
      const b = utf8Bytes((lines[i] as { text: string }).text) + 1;
      if (i > start && used + b > o.max_bytes) break;
      used += b;
      i++;
    }
    const included = batch.slice(start, i);
    const content = `${head(included)}\n${lines.slice(start, i).map((l) => l.text).join('\n')}${suffix}`;
    const n = included.length;
    const title = o.language === 'zh-en' ? `告警汇总 ${n} 条 / ${n} alerts` : `告警汇总 ${n} 条`;
    out.push({ title, content: truncateUtf8(content, o.max_bytes), ids: included.map((d) => d.record.id), truncated: utf8Bytes(content) > o.max_bytes });
  }
  return out;
}
