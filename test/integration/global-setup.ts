// Integration tests run against a real cluster: `npm test` (scripts/test.mjs) brings up this
// worktree's local cluster or uses KUBECONFIG, and passes the agent image it imported. Running
// `vitest --project integration` by hand needs the same two variables.

export default function setup(): void {
  const missing = ['KUBECONFIG', 'GC_K8S_TEST_AGENT_IMAGE'].filter((k) => !process.env[k]);
  if (missing.length > 0) {
    throw new Error(`integration tests need ${missing.join(' and ')}: run them with \`npm test\`, which brings up the local cluster`);
  }
}
