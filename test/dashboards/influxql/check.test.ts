import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { storeSchema } from '../../../collector/store/kpi-schema.js';
import { expandMacros, variablesIn } from '../../../dashboards/grafana/macros.js';
import { checkInfluxQl, regexAlternatives } from '../../../dashboards/influxql/check.js';
import { parseInfluxQl } from '../../../dashboards/influxql/parse.js';

const schema = storeSchema(loadProfiles().values());

describe('the InfluxQL catalogue check', () => {
  it.each([
    ['raw KPI field', `SELECT "value", "quality" FROM "kpi" WHERE "kpi" = 'pue' AND "window" = '1h' AND time > now() - 1h`],
    ['KPI input of the pinned KPI', `SELECT mean("it_power_w") FROM "kpi" WHERE "kpi" = 'pue_live' AND time > now() - 1h GROUP BY time(1m) fill(none)`],
    ['regex alternation of windows', `SELECT "value" FROM "kpi" WHERE "kpi" = 'pue' AND "window" =~ /^(15m|1h|1d)$/`],
    ['escaped basis value', `SELECT "value" FROM "kpi" WHERE "basis" =~ /^(fp16_dense\\+fp32|sum:fp32)$/`],
    ['device row of a PDU (empty tag)', `SELECT "active_power_w" FROM "pdu" WHERE "phase" = '' AND "role" = 'it'`],
    ['subquery sum by rack', `SELECT sum("p") FROM (SELECT mean("active_power_w") AS "p" FROM "pdu" WHERE time > 0 GROUP BY time(1m), "device", "rack") WHERE time > 0 GROUP BY time(1m), "rack"`],
    ['several measurements with the same field and tag', `SELECT mean("active_power_w") AS "p" FROM "meter", "chiller", "crah" WHERE "role" = 'cooling' AND time > 0 GROUP BY time(1m)`],
    ['tags selected beside a field', `SELECT "summary", "rule", "severity" FROM "alert" WHERE "state" = 'firing' AND time > 0`],
    ['counter rate', `SELECT non_negative_derivative(max("poll_errors_count"), 1m) AS "errors" FROM "agent_health" WHERE time > 0 GROUP BY time(1m), "agent"`],
    ['arithmetic', `SELECT "value" / 1000 AS "eflops" FROM "kpi" WHERE "kpi" = 'compute_ai_pflops' ORDER BY time DESC LIMIT 1`],
    ['boolean field', `SELECT "state" FROM "device_status" WHERE "up" = false`],
    ['show tag values', `SHOW TAG VALUES FROM "kpi" WITH KEY = "site" WHERE "kpi" = 'pue_live'`],
    ['show tag values across measurements', `SHOW TAG VALUES WITH KEY = "hall" WHERE "site" =~ /^demo$/`],
    ['OR of KPI and window pairs', `SELECT "value" FROM "kpi" WHERE (("kpi" = 'pue' AND "window" = '1mo') OR ("kpi" = 'green_share_ratio' AND "window" = 'ytd'))`],
  ])('accepts %s', (_, q) => {
    expect(checkInfluxQl(q, schema)).toEqual([]);
  });

  it.each([
    ['an unknown measurement', `SELECT "value" FROM "kpis"`, 'no measurement named "kpis"'],
    ['an unknown field', `SELECT "vaule" FROM "kpi"`, 'kpi has no field or tag "vaule"'],
    ['an unknown raw field', `SELECT mean("active_power_kw") FROM "pdu" WHERE time > 0 GROUP BY time(1m)`, 'pdu has no field "active_power_kw"'],
    ['an unknown tag in WHERE', `SELECT "active_power_w" FROM "pdu" WHERE "rck" = 'r01'`, 'pdu has no tag or field "rck"'],
    ['an unknown tag in GROUP BY', `SELECT "inlet_temp_c" FROM "sensor" GROUP BY "outlet"`, 'sensor has no tag "outlet"'],
    ['a field in GROUP BY', `SELECT "value" FROM "kpi" GROUP BY "quality"`, 'kpi has no tag "quality" (it is a field'],
    ['a KPI name the catalogue lacks', `SELECT "value" FROM "kpi" WHERE "kpi" = 'pue_ratio'`, 'no KPI named "pue_ratio"'],
    ['a window the KPI does not have', `SELECT "value" FROM "kpi" WHERE "kpi" = 'pue_live' AND "window" = '1h'`, '"1h" is not a value of tag "window" in kpi (pue_live)'],
    ['a basis the KPI does not have', `SELECT "value" FROM "kpi" WHERE "kpi" = 'pue' AND "basis" = 'pooled'`, '"pooled" is not a value of tag "basis"'],
    ['an input of another KPI', `SELECT "it_kwh" FROM "kpi" WHERE "kpi" = 'pue_live'`, 'kpi (pue_live) has no field or tag "it_kwh"'],
    ['a role that does not exist', `SELECT "active_power_w" FROM "meter" WHERE "role" = 'facility'`, '"facility" is not a value of tag "role"'],
    ['a quality that does not exist', `SELECT "value" FROM "kpi" WHERE "quality" = 'good'`, '"good" is not a value of field "quality"'],
    ['mean of a string field', `SELECT mean("quality") FROM "kpi" WHERE time > 0 GROUP BY time(1m)`, 'field "quality" of kpi is string, not a number'],
    ['a tag compared with a number', `SELECT "value" FROM "kpi" WHERE "category" = 2`, 'tag "category" holds text'],
    ['SELECT *', `SELECT * FROM "kpi"`, 'SELECT *: name the fields'],
    ['a FROM regex', `SELECT "value" FROM /.*/`, 'name the measurements'],
    ['GROUP BY time without a range', `SELECT mean("value") FROM "kpi" GROUP BY time(1m)`, 'needs a time range'],
    ['GROUP BY time without an aggregate', `SELECT "value" FROM "kpi" WHERE time > 0 GROUP BY time(1m)`, 'needs an aggregate'],
    ['an outer query naming a tag the subquery dropped', `SELECT sum("p") FROM (SELECT mean("active_power_w") AS "p" FROM "pdu" WHERE time > 0 GROUP BY time(1m), "device") WHERE time > 0 GROUP BY time(1m), "rack"`, 'subquery has no tag "rack"'],
    ['a field only one of several measurements has', `SELECT "chw_supply_temp_c" FROM "chiller", "crah"`, 'has no field or tag "chw_supply_temp_c"'],
    ['an unknown SHOW key', `SHOW TAG VALUES FROM "agent_health" WITH KEY = "hall"`, 'agent_health has no tag "hall"'],
    ['a syntax error', `SELECT "value" FROM`, 'does not parse'],
    ['a Grafana macro left in', `SELECT "value" FROM "kpi" WHERE $timeFilter`, 'does not parse'],
  ])('refuses %s', (_, q, message) => {
    const problems = checkInfluxQl(q, schema);
    expect(problems.join('\n')).toContain(message);
  });
});

describe('regex alternatives', () => {
  it.each([
    ['^(a|b)$', ['a', 'b']],
    ['^pue$', ['pue']],
    ['^(fp16_dense\\+fp32)$', ['fp16_dense+fp32']],
    ['^(a|b.*)$', undefined],
    ['^a|b$', undefined],
    ['pue', undefined],
  ] as const)('%s → %j', (re, expected) => {
    expect(regexAlternatives(re)).toEqual(expected);
  });
});

describe('the parser', () => {
  it('reads subqueries, functions, aliases, fill, order and limit', () => {
    const [s] = parseInfluxQl(`SELECT sum("p") AS "power" FROM (SELECT mean("active_power_w") AS "p" FROM "pdu" GROUP BY time(1m), "rack") GROUP BY time(1m), "rack" fill(none) ORDER BY time DESC LIMIT 3`);
    expect(s).toMatchObject({ kind: 'select', columns: [{ alias: 'power', expr: { t: 'call', fn: 'sum' } }], fill: 'none', order: 'desc', limit: 3 });
    expect(s?.kind === 'select' && s.sources[0]?.t).toBe('subquery');
  });

  it('unescapes quoted identifiers and strings', () => {
    const [s] = parseInfluxQl(`SELECT "a\\"b" FROM "m" WHERE "t" = 'it\\'s'`);
    expect(s).toMatchObject({ columns: [{ expr: { t: 'ident', name: 'a"b' } }], where: { right: { t: 'string', value: "it's" } } });
  });
});

describe('Grafana macros', () => {
  const ctx = { from_ms: 1000, to_ms: 2000, interval: '1m', vars: { site: 'demo', pue_window: '1mo' } };

  it('expands the time filter, the interval and variables in all three spellings', () => {
    expect(expandMacros(`WHERE "site" =~ /^$site$/ AND "w" = '\${pue_window}' AND "x" = '[[site]]' AND $timeFilter GROUP BY time($__interval)`, ctx)).toBe(
      `WHERE "site" =~ /^demo$/ AND "w" = '1mo' AND "x" = 'demo' AND time >= 1000ms AND time <= 2000ms GROUP BY time(1m)`,
    );
  });

  it('refuses a variable it does not know', () => {
    expect(() => expandMacros(`WHERE "hall" =~ /^$hall$/`, ctx)).toThrow(/unknown Grafana variable\(s\) \$hall/);
  });

  it('lists the variables a query uses', () => {
    expect(variablesIn(`"a" = '$x' AND $timeFilter AND time($__interval) AND [[y]] AND \${z}`)).toEqual(['x', 'y', 'z']);
  });
});
