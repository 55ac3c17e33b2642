import { DEVICE_STATE_COLOURS, siteVariable } from './common.js';
import { dashboard, queryVariable, type Dashboard } from './grafana/dashboard.js';
import { byName, byRegexp, colouredCells, mergeTables, prop, stat, stateTimeline, table, textMapping, timeseries } from './grafana/panels.js';
import { col, ident, LATEST_RANGE, last, matchesVar, max, mean, perMinute, select, sum, TIME_FILTER } from './influxql/build.js';

/**
 * Device health: are the agents and devices delivering? Agents' self-metrics (measurement
 * agent_health: the retained agent state with its periodic health map), device status
 * (device_status, one point per state change), poll latency, errors and the spool backlog.
 */

const WHERE_AGENT = [matchesVar('site', 'site'), matchesVar('agent', 'agent')];

const agentVariable = queryVariable({
  name: 'agent',
  label: 'Agent',
  description: 'Agents of the selected sites.',
  query: `SHOW TAG VALUES FROM ${ident('agent_health')} WITH KEY = ${ident('agent')} WHERE ${matchesVar('site', 'site')}`,
  multi: true,
});

const ONLINE = textMapping({ true: ['online', 'green'], false: ['offline', 'red'] });
const CONNECTED = textMapping({ '1': ['connected', 'green'], '0': ['disconnected', 'red'] });

const agentsTable = table({
  title: 'Agents',
  description:
    'Newest state of each agent in the range: online (false after its MQTT last will), version, uptime, devices by state, MQTT connection and the telemetry waiting in its disk spool. Time: when the agent last reported.',
  w: 24,
  h: 7,
  queries: [
    {
      query: select({
        columns: [
          col('online'),
          col('version'),
          col('uptime_s', 'uptime'),
          col('devices_count', 'devices'),
          col('devices_up_count', 'up'),
          col('devices_degraded_count', 'degraded'),
          col('devices_down_count', 'down'),
          col('mqtt_connected', 'MQTT'),
          col('spool_records_count', 'spooled'),
          col('telemetry_backlog_count', 'backlog'),
        ],
        from: 'agent_health',
        where: [...WHERE_AGENT, TIME_FILTER],
        groupBy: ['site', 'agent'],
        newest: true,
      }),
      format: 'table',
    },
  ],
  transformations: [mergeTables],
  overrides: [
    byName('online', colouredCells, prop('mappings', ONLINE)),
    byName('MQTT', colouredCells, prop('mappings', CONNECTED)),
    byName('uptime', prop('unit', 's')),
    byName('down', prop('thresholds', { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] }), prop('custom.cellOptions', { type: 'color-text' })),
    byName('Time', prop('displayName', 'last report'), prop('unit', 'dateTimeAsIso')),
  ],
});

const devicesNow = stat({
  title: 'Devices by state',
  description: 'Σ over the selected agents of their newest device counts: up (every point read), degraded (some), down (none), not yet polled.',
  w: 6,
  h: 7,
  queries: [
    {
      query: select({
        columns: [sum('up', 'up'), sum('degraded', 'degraded'), sum('down', 'down'), sum('unpolled', 'not polled yet')],
        from: {
          columns: [last('devices_up_count', 'up'), last('devices_degraded_count', 'degraded'), last('devices_down_count', 'down'), last('devices_unpolled_count', 'unpolled')],
          from: 'agent_health',
          where: [...WHERE_AGENT, TIME_FILTER],
          groupBy: ['agent'],
        },
      }),
    },
  ],
  overrides: [
    byName('up', prop('color', { mode: 'fixed', fixedColor: 'green' })),
    byName('degraded', prop('color', { mode: 'fixed', fixedColor: 'orange' })),
    byName('down', prop('color', { mode: 'fixed', fixedColor: 'red' })),
    byName('not polled yet', prop('color', { mode: 'fixed', fixedColor: 'text' })),
  ],
});

const devicesOverTime = timeseries({
  title: 'Devices by state over time',
  description: 'Device counts per agent from its periodic health report (agent_health devices_up_count, devices_degraded_count, devices_down_count).',
  w: 18,
  h: 7,
  queries: [
    {
      query: select({
        columns: [last('devices_up_count', 'up'), last('devices_degraded_count', 'degraded'), last('devices_down_count', 'down')],
        from: 'agent_health',
        where: [...WHERE_AGENT, TIME_FILTER],
        byTime: true,
        groupBy: ['agent'],
        fill: 'previous',
      }),
      alias: '$tag_agent $col',
    },
  ],
  min: 0,
  decimals: 0,
  stack: true,
});

const deviceStatus = table({
  title: 'Device status',
  description:
    'Newest status of every device (measurement device_status, stamped when the state began): up, degraded or down with the error code of the failing poll, and when it last read fine. Down and degraded first.',
  w: 24,
  h: 9,
  queries: [
    {
      query: select({
        columns: [col('state'), col('code'), col('last_ok_ms', 'last ok')],
        from: 'device_status',
        where: [matchesVar('site', 'site'), LATEST_RANGE],
        groupBy: ['device', 'hall', 'rack', 'role'],
        newest: true,
      }),
      format: 'table',
    },
  ],
  transformations: [mergeTables, { id: 'organize', options: { renameByName: { Time: 'since' } } }],
  overrides: [byName('state', colouredCells, prop('mappings', DEVICE_STATE_COLOURS)), byName('last ok', prop('unit', 'dateTimeAsIso')), byName('since', prop('unit', 'dateTimeAsIso'))],
  sortBy: [{ displayName: 'state', desc: false }],
});

const pollLatency = timeseries({
  title: 'Poll latency',
  description: "Each agent's slowest device poll and the mean over its devices' last polls (agent_health poll_duration_max_ms, poll_duration_mean_ms).",
  w: 12,
  h: 8,
  queries: [{ query: select({ columns: [max('poll_duration_max_ms', 'slowest'), mean('poll_duration_mean_ms', 'mean')], from: 'agent_health', where: [...WHERE_AGENT, TIME_FILTER], byTime: true, groupBy: ['agent'], fill: 'none' }), alias: '$tag_agent $col' }],
  unit: 'ms',
  min: 0,
});

const pollErrors = timeseries({
  title: 'Poll errors, timeouts and retries',
  description: 'Per minute, from the agents\' counters (agent_health poll_errors_count: polls that read nothing, poll_timeouts_count, poll_retries_count, readings_dropped_count: readings the message contract refused).',
  w: 12,
  h: 8,
  queries: [
    {
      query: select({
        columns: [perMinute('poll_errors_count', 'failed polls'), perMinute('poll_timeouts_count', 'timeouts'), perMinute('poll_retries_count', 'retries'), perMinute('readings_dropped_count', 'readings dropped')],
        from: 'agent_health',
        where: [...WHERE_AGENT, TIME_FILTER],
        byTime: true,
        groupBy: ['agent'],
        fill: 'none',
      }),
      alias: '$tag_agent $col',
    },
  ],
  unit: 'short',
  min: 0,
});

const spoolDepth = timeseries({
  title: 'Spool depth',
  description: 'Telemetry waiting in each agent\'s disk spool for the broker\'s acknowledgement, the backlog from before the current connection, and the age of the oldest waiting record (agent_health spool_records_count, telemetry_backlog_count, spool_oldest_age_s).',
  w: 12,
  h: 8,
  queries: [
    { query: select({ columns: [max('spool_records_count', 'records'), max('telemetry_backlog_count', 'backlog')], from: 'agent_health', where: [...WHERE_AGENT, TIME_FILTER], byTime: true, groupBy: ['agent'], fill: 'none' }), alias: '$tag_agent $col' },
    { query: select({ columns: [max('spool_oldest_age_s', 'oldest')], from: 'agent_health', where: [...WHERE_AGENT, TIME_FILTER], byTime: true, groupBy: ['agent'], fill: 'none' }), alias: '$tag_agent oldest record' },
  ],
  min: 0,
  overrides: [byRegexp('.* oldest record$', prop('unit', 's'))],
});

const connection = stateTimeline({
  title: 'Agent online and MQTT connection',
  description: 'Whether each agent was online (its retained state; the broker publishes its last will when it vanishes) and connected to the broker (agent_health online, mqtt_connected).',
  w: 12,
  h: 8,
  queries: [
    { query: select({ columns: [last('online', 'online')], from: 'agent_health', where: [...WHERE_AGENT, TIME_FILTER], byTime: true, groupBy: ['agent'], fill: 'previous' }), alias: '$tag_agent online' },
    { query: select({ columns: [last('mqtt_connected', 'mqtt')], from: 'agent_health', where: [...WHERE_AGENT, TIME_FILTER], byTime: true, groupBy: ['agent'], fill: 'previous' }), alias: '$tag_agent MQTT' },
  ],
  mappings: [...ONLINE, ...CONNECTED],
});

export function deviceHealth(): Dashboard {
  return dashboard({
    uid: 'dcim-device-health',
    title: 'DCIM · Device health',
    description: 'Agents, device status, poll latency, errors and spool depth.',
    tags: ['health'],
    time: 'now-6h',
    refresh: '30s',
    variables: [siteVariable({ multi: true, from: 'agent_health' }), agentVariable],
    rows: [
      { title: 'Agents and devices', panels: [agentsTable, devicesNow, devicesOverTime, deviceStatus] },
      { title: 'Polling and delivery', panels: [pollLatency, pollErrors, spoolDepth, connection] },
    ],
  });
}
