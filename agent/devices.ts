import type { Device, DeviceProfile, ErrorCode, SiteInventory } from '../contract/index.js';
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

export function selectDevices(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>, ids?: readonly string[]): { devices: AgentDevice[]; problems: SelectionProblem[] } {
  const problems: SelectionProblem[] = [];
  const byId = new Map(inv.devices.map((d, i) => [d.id, i] as const));
  let chosen: number[];
  if (ids === undefined) chosen = inv.devices.map((_, i) => i);
  else {
    chosen = [];
    ids.forEach((id, i) => {
      const at = byId.get(id);
      if (at === undefined) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'devices', i], message: `no device ${id} in site ${inv.site.id}` });
      else if (chosen.includes(at)) problems.push({ code: 'DCIM_E_CONFIG_INVALID', where: 'config', path: ['agent', 'devices', i], message: `device ${id} listed twice` });
      else chosen.push(at);
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
