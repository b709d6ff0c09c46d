// The pod-level security context of Pod Security "restricted", shared by session pods (when the
// city asks for restricted) and the beads runner (always).

import type { PodSettings } from './settings.js';

export function restrictedPodSecurity(settings: Pick<PodSettings, 'runAsUser' | 'runAsGroup'>) {
  return {
    runAsNonRoot: true,
    runAsUser: settings.runAsUser,
    runAsGroup: settings.runAsGroup,
    // volumes (the workspace claim) belong to the agent's group
    fsGroup: settings.runAsGroup,
    seccompProfile: { type: 'RuntimeDefault' },
  } as const;
}
