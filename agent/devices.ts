import { deviceOwner, type Device, type DeviceProfile, type ErrorCode, type SiteInventory } from '../contract/index.js';
import { checkProfile } from './profile-checks.js';

/**
 * Which inventory devices this agent polls, each with its profile. Pure; used by the config
 * loader (to report problems with file and path) and by the Agent (which refuses to start
 * on any).
 */
export interface AgentDevice {
  device: Device;
  profile: DeviceProfile;
}

export interface SelectionProblem {
  code: ErrorCode;
  /** 'config' = the agent config's `agent.devices`; 'seed' = the site inventory. */
  where: 'config' | 'seed' | 'profile';
  path: (string | number)[];
  message: string;
}

/**
 * With `agentId`, the inventory's ownership decides: by default the agent polls the devices it
 * owns (every device of a site that names no owner), and listing a device another agent owns is
 * a config error: the collector and the broker would refuse everything it publishes for it.
 */
export function selectDevices(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>, ids?: readonly string[], agentId?: string): { devices: AgentDevice[]; problems: SelectionProblem[] } {
  const problems: SelectionProblem[] = [];
  const byId = new Map(inv.devices.map((d, i) => [d.id, i] as const));
  const ownedBy = (d: Device) => deviceOwner(inv, d);
  let chosen: number[];
  if (ids === undefined) {
    chosen = inv.devices.flatMap((d, i) => (agentId === undefined || ownedBy(d) === undefined || ownedBy(d) === agentId ? [i] : []));
    if (chosen.length === 0) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'id'], message: `site ${inv.site.id} assigns no device to agent ${agentId ?? ''} (devices[].agent, site.agent)` });
  } else {
    chosen = [];
    ids.forEach((id, i) => {
      const at = byId.get(id);
      if (at === undefined) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'devices', i], message: `no device ${id} in site ${inv.site.id}` });
      else if (chosen.includes(at)) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'devices', i], message: `device ${id} listed twice` });
      else if (agentId !== undefined && ownedBy(inv.devices[at] as Device) !== undefined && ownedBy(inv.devices[at] as Device) !== agentId) {
        problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'devices', i], message: `device ${id} belongs to agent ${String(ownedBy(inv.devices[at] as Device))}, not ${agentId} (the site inventory's devices[].agent / site.agent)` });
      } else chosen.push(at);
    });
  }
  const devices: AgentDevice[] = [];
  const checked = new Set<string>();
  for (const i of chosen) {
    const device = inv.devices[i] as Device;
    const profile = profiles.get(device.profile);
    if (!profile) {
      problems.push({ code: 'DCIM_E_PROFILE_UNKNOWN', where: 'seed', path: ['devices', i, 'profile'], message: `no profile ${device.profile} (known: ${[...profiles.keys()].sort().join(', ')})` });
      continue;
    }
    if (profile.protocol !== device.address.protocol) {
      problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'seed', path: ['devices', i, 'address', 'protocol'], message: `profile ${profile.id} speaks ${profile.protocol}, the address says ${device.address.protocol}` });
      continue;
    }
    if (!checked.has(profile.id)) {
      checked.add(profile.id);
      for (const p of checkProfile(profile)) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'profile', path: [profile.id], message: p });
    }
    devices.push({ device, profile });
  }
  return { devices, problems };
}
