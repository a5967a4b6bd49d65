// The layer rules of design.md ("Wave 2 target"), checked by `make check-layers`
// (part of `make test`). Paths are relative to the directory depcruise runs in,
// so the same rules judge src/ and the fixture trees in test/unit/layers.test.ts.
// A rule for a directory that does not exist yet (replay/, simulate/, doctor/,
// server/) matches nothing and passes; it bites the day the directory appears.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'wire-only-wire',
      severity: 'error',
      comment:
        'wire/ is views, parse and build of IPv4/IPv6/TCP bytes: the bottom layer. ' +
        'Everything may read packets through it, so it may need nothing but itself ' +
        '(and node: builtins).',
      from: { path: '^src/wire/' },
      to: { pathNot: '^src/wire/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'profiles-not-stack',
      severity: 'error',
      comment:
        'profiles/ is per-kernel data (switches and default sysctls) that the stack ' +
        'reads; the stack asks the profile, never the other way round.',
      from: { path: '^src/profiles/' },
      to: { path: '^src/stack/' },
    },
    {
      name: 'stack-pure',
      severity: 'error',
      comment:
        'stack/ is a pure state machine: (state, segment, now) in, verdict out. ' +
        'Devices, sockets, rendering, the CLI and the product around it are callers, ' +
        'never callees, so replay/simulate/tests can drive it without any of them.',
      from: { path: '^src/stack/' },
      to: { path: '^src/(io|control|observe|lab|cli|app|server|verify|tools)/' },
    },
    {
      name: 'observe-not-cli',
      severity: 'error',
      comment:
        'observe/ renders counters, events and snapshots for every front end; the ' +
        'CLI is one of its callers, so observe must not reach back into it.',
      from: { path: '^src/observe/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'offline-not-io',
      severity: 'error',
      comment:
        'replay/ and simulate/ run the stack on captures or workloads in virtual ' +
        'time; touching io/ (TUN, real clocks, child processes) would make them ' +
        'neither offline nor deterministic.',
      from: { path: '^src/(replay|simulate)/' },
      to: { path: '^src/io/' },
    },
    {
      name: 'offline-grid-engines-only',
      severity: 'error',
      comment:
        'offline/ runs the cells of a replay or simulate grid on worker threads; a worker loads ' +
        'it and the engines alone, so it may reach replay/ and simulate/ (and what they use), ' +
        'never the devices, the control socket, the lab, the CLI or the tools above it.',
      from: { path: '^src/offline/' },
      to: { path: '^src/(io|control|server|lab|cli|verify|tools)/' },
    },
    {
      name: 'report-not-drivers',
      severity: 'error',
      comment:
        'report/ turns recordings (plain data) into one HTML file for run, scenarios, replay and ' +
        'simulate alike; it reads a Host and the observe renderers, never the devices, the ' +
        'control socket, the lab or the CLI that feed it (offline callers could not use it).',
      from: { path: '^src/report/' },
      to: { path: '^src/(io|control|server|lab|cli|app|verify|tools|replay|simulate)/' },
    },
    {
      name: 'doctor-not-stack',
      severity: 'error',
      comment:
        'doctor/ explains a real host (or a bundle from one) with the same explain ' +
        'rules; it reads what the kernel did and must not substitute the emulated ' +
        'stack for it.',
      from: { path: '^src/doctor/' },
      to: { path: '^src/stack/' },
    },
    {
      name: 'no-runtime-cycle',
      severity: 'error',
      comment:
        'A runtime import cycle makes module initialisation order matter (a ' +
        'binding read before it is set is undefined) and fuses two layers into ' +
        'one. Cycles made only of type imports vanish at compile time and are allowed.',
      from: { path: '^src/' },
      to: {
        circular: true,
        // Every edge of the cycle must survive compilation for it to count:
        // `import type`/`{ type X }` (type-only) and imports tsc elides because
        // only types are used (pre-compilation-only) do not.
        viaOnly: { dependencyTypesNot: ['type-only', 'pre-compilation-only'] },
      },
    },
    {
      name: 'src-not-test',
      severity: 'error',
      comment:
        'The product ships without test/: anything src/ needs at run time ' +
        '(python clients, guest programs, known-difference data) lives under src/.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'src-resolvable',
      severity: 'error',
      comment:
        'An import the checker cannot resolve to a file is judged by no other rule ' +
        '(a path to a missing or misspelt module slips past every layer above).',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Parse with the TypeScript compiler and keep type-only imports: a type
    // import across a forbidden boundary still couples the layers. "specify"
    // marks the imports tsc would elide so the cycle rule can ignore them.
    tsPreCompilationDeps: 'specify',
    // No tsConfig: src/ uses no path aliases, and NodeNext's `./x.js` for
    // `./x.ts` is resolved by dependency-cruiser itself. Leaving it out lets the
    // same config judge a fixture tree that has no tsconfig.json.
    cache: false,
    progress: { type: 'none' },
    // Packages that publish only an `exports` map (vega-lite has no `main`) resolve through it,
    // with the conditions Node uses for an ESM import.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
