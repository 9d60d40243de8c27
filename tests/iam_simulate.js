// The independent IAM evaluator of tests/iam_differential.py: @cloud-copilot/iam-simulate (AGPL-3.0,
// a devDependency for the tests only, never shipped). Reads a JSON array of simulations on stdin,
// writes one JSON array of answers on stdout, in the same order: one process for the whole batch.
// Each answer is {"result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"} or
// {"result": "error", "message": ...} when iam-simulate refuses the input.
'use strict'

const { anonymousPrincipal, runSimulation } = require('@cloud-copilot/iam-simulate')

async function simulate(input) {
  const simulation = {
    request: {
      principal: input.principal === '*' ? anonymousPrincipal : input.principal,
      action: input.action,
      resource: { resource: input.resource, accountId: input.resourceAccount },
      contextVariables: input.context
    },
    identityPolicies: input.identityPolicies.map((policy, index) => ({ name: `identity-${index + 1}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: input.resourcePolicy ?? undefined
  }
  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      return { result: 'error', message: JSON.stringify(response.errors) }
    }
    return { result: response.overallResult }
  } catch (error) {
    return { result: 'error', message: String(error && error.stack ? error.stack : error) }
  }
}

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const inputs = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const answers = []
  for (const input of inputs) answers.push(await simulate(input))
  process.stdout.write(JSON.stringify(answers))
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error))
  process.exit(1)
})
