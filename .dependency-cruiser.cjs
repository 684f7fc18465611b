// Layer check (run by `npm test`): arrows point one way —
// commands → cli → app (use cases) → core (config, plan, apply, restore, state, format) → ports (storage, kafka, segment).
// Only the composition root (src/cli/context.ts) may import adapters and SDKs. See docs/architecture.md.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {name: 'no-cycles', severity: 'error', from: {}, to: {circular: true}},
    {name: 'core-not-to-cli', severity: 'error', comment: 'Core modules never import the CLI layer or commands.',
      from: {path: '^src/(config|plan|apply|refresh|restore|state|format|inventory|verify|audit|offsets|storage|kafka|segment)/'}, to: {path: '^src/(cli|commands)/'}},
    {name: 'cli-not-to-commands', severity: 'error', from: {path: '^src/cli/'}, to: {path: '^src/commands/'}},
    {name: 'core-not-to-app', severity: 'error', comment: 'Core modules and ports never import the use cases (src/app).',
      from: {path: '^src/(config|plan|apply|refresh|restore|state|format|inventory|verify|audit|offsets|storage|kafka|segment)/'}, to: {path: '^src/app/'}},
    {name: 'app-not-to-cli', severity: 'error', comment: 'Use cases take their ports as parameters: they never import the CLI, the commands or the composition root.',
      from: {path: '^src/app/'}, to: {path: '^src/(cli|commands)/'}},
    {name: 'app-no-adapters', severity: 'error', comment: 'Use cases see ports only: adapters are wired by the composition root.',
      from: {path: '^src/app/'}, to: {path: '^src/(storage/(index|fs-store|s3-store|azure-store|gcs-store|lazy-store)|kafka/kafkajs)'}},
    {name: 'ports-not-to-core', severity: 'error', comment: 'Ports and adapters know nothing of plans, config or state.',
      from: {path: '^src/(storage|kafka|segment)/'}, to: {path: '^src/(config|plan|apply|refresh|restore|state|format|inventory|verify|audit|offsets)/'}},
    {name: 'planner-is-pure', severity: 'error', comment: 'The planner imports no SDK, adapter or I/O module.',
      from: {path: '^src/plan/'}, to: {path: '(^src/(storage|kafka)/.*-adapter|^src/storage/(fs|s3|azure|gcs)|node_modules/(kafkajs|@aws-sdk|@azure|@google-cloud)|^(fs|node:fs))'}},
    {name: 'sdks-only-in-adapters', severity: 'error', comment: 'Cloud and Kafka SDKs are imported only by their adapters.',
      from: {pathNot: '^src/(storage/(s3|azure|gcs)|kafka/kafkajs)'}, to: {path: 'node_modules/(kafkajs|@aws-sdk|@azure|@google-cloud)'}},
    {name: 'commands-thin', severity: 'error', comment: 'Commands reach adapters only through the composition root.',
      from: {path: '^src/commands/'}, to: {path: '^src/(storage/(fs|s3|azure|gcs)|kafka/kafkajs)'}},
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsConfig: {fileName: 'tsconfig.json'},
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js']},
    exclude: {path: '^dist/'},
  },
}
