// Reads a JSON array of cases {query, credentials: [{doctype, namespaces: {ns: {el: value}}}]}
// on stdin and prints, per case, dcql-ts's verdict: {valid: false} when the query is refused,
// else {valid: true, can_be_satisfied, matches: {query id: [{index, claim_set, disclose}]},
// sets: [[option indices]] or null}. Run by oid4vp/tests/dcql/interop.rs.
import { DcqlQuery } from 'dcql'

const input = JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.on('data', (c) => { data += c })
  process.stdin.on('end', () => resolve(data))
}))

const out = input.map(({ query, credentials }) => {
  let parsed
  try {
    parsed = DcqlQuery.parse(query)
    DcqlQuery.validate(parsed)
  } catch {
    return { valid: false }
  }
  const result = DcqlQuery.query(parsed, credentials.map((c) => ({
    credential_format: 'mso_mdoc',
    doctype: c.doctype,
    namespaces: c.namespaces,
    cryptographic_holder_binding: true,
  })))
  const matches = {}
  for (const [id, m] of Object.entries(result.credential_matches)) {
    // Per matching credential: its index, the claim set option chosen (the first valid one)
    // and the elements that option discloses, sorted.
    matches[id] = m.success
      ? m.valid_credentials.map((v) => {
          const chosen = v.claims.valid_claim_sets[0]
          const disclose = Object.entries(chosen.output ?? {})
            .flatMap(([ns, els]) => Object.keys(els).map((el) => `${ns}/${el}`))
            .sort()
          return { index: v.input_credential_index, claim_set: chosen.claim_set_index ?? null, disclose }
        })
      : []
  }
  const sets = result.credential_sets
    // matching_options holds the very option arrays of `options`, so identity finds each
    // index (equal duplicates included).
    ? result.credential_sets.map((s) => (s.matching_options ?? []).map((o) => s.options.indexOf(o)))
    : null
  return { valid: true, can_be_satisfied: result.can_be_satisfied, matches, sets }
})
process.stdout.write(JSON.stringify(out))
