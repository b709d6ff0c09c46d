// The singleton beads runner pod: the agent image (it contains bd) idling under tini, hardened
// like agent pods. It holds only the stores' .beads directories, which the daemon rebuilds after
// every recreation, so it needs no volume and no API access (no service-account token). The
// Dolt password reaches bd through a secretKeyRef, never as plaintext in the spec.

import type { PodManifest } from '../../kube/types.js';
import { restrictedPodSecurity } from '../../session/security.js';
import type { PodSettings } from '../../session/settings.js';
import { shortHash } from '../../util/hash.js';
import { RUNNER_WORKSPACE } from '../scope.js';

export const RUNNER_POD = 'gc-beads-runner';
export const RUNNER_CONTAINER = 'beads';
export const RUNNER_LABELS = { 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'beads-runner' } as const;
/** Hash of the spec: a runner built from other settings (new image) is replaced. */
export const SPEC_ANNOTATION = 'gc/runner-spec';

export function runnerManifest(settings: PodSettings): PodManifest {
  const manifest: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: RUNNER_POD, namespace: settings.namespace, labels: { ...RUNNER_LABELS }, annotations: {} },
    spec: {
      // Never: a restarted container would come back without its .beads state under the same
      // pod uid; a failed runner is replaced as a new pod instead, which the daemon notices.
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 2,
      securityContext: restrictedPodSecurity(settings),
      ...(settings.imagePullSecret === '' ? {} : { imagePullSecrets: [{ name: settings.imagePullSecret }] }),
      containers: [
        {
          name: RUNNER_CONTAINER,
          image: settings.image,
          imagePullPolicy: settings.imagePullPolicy,
          command: ['tini', '--', 'sleep', 'infinity'],
          workingDir: RUNNER_WORKSPACE,
          env: [
            { name: 'HOME', value: '/tmp/gc-beads-home' },
            { name: 'BD_NON_INTERACTIVE', value: '1' },
            { name: 'BEADS_DOLT_AUTO_START', value: '0' },
            // Under the 500m CPU limit a bd process with several Ps burns the CFS quota in
            // parallel while it starts and then sits throttled: one P made `bd update` about 25%
            // faster (p50 116–123 vs 157–158 ms, 20 runs each, two rounds).
            { name: 'GOMAXPROCS', value: '1' },
            { name: 'BEADS_DOLT_PASSWORD', valueFrom: { secretKeyRef: { name: settings.doltSecret, key: 'password', optional: true } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: settings.runAsUser,
            runAsGroup: settings.runAsGroup,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        },
      ],
    },
  };
  const annotations = manifest.metadata.annotations ?? {};
  annotations[SPEC_ANNOTATION] = shortHash(JSON.stringify(manifest.spec));
  manifest.metadata.annotations = annotations;
  return manifest;
}
