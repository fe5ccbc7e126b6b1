// tests/dicomweb_test.cc runs this: the dicomweb-client npm package (the DICOMweb client of
// OHIF) against a serving node. Usage: node client.js URL TOKEN OUT_DIR
// Prints one JSON line: the studies found (QIDO-RS), then for the first instance of the
// first study the file it retrieved (WADO-RS) and the keys of its metadata.
'use strict';
global.XMLHttpRequest = require('xhr2');
const fs = require('fs');
const path = require('path');
const { api } = require('dicomweb-client');

async function main() {
  const [url, token, outDir] = process.argv.slice(2);
  const client = new api.DICOMwebClient({ url, headers: { Authorization: 'Bearer ' + token } });
  const studies = await client.searchForStudies();
  const studyUid = studies[0]['0020000D'].Value[0];
  const instances = await client.searchForInstances({ studyInstanceUID: studyUid });
  const first = instances[0];
  const ids = {
    studyInstanceUID: studyUid,
    seriesInstanceUID: first['0020000E'].Value[0],
    sopInstanceUID: first['00080018'].Value[0],
  };
  const part = await client.retrieveInstance(ids);
  const file = path.join(outDir, 'client-instance.dcm');
  fs.writeFileSync(file, Buffer.from(part));
  const metadata = await client.retrieveInstanceMetadata(ids);
  console.log(JSON.stringify({
    studies: studies.map((s) => s['0020000D'].Value[0]),
    instance: ids,
    file,
    metadataKeys: Object.keys(metadata[0]).length,
  }));
}

main().catch((e) => {
  console.error('dicomweb-client failed:', e && (e.status || e.message || e));
  process.exit(1);
});
