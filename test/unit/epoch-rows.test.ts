// lib/epoch-rows.ts: the per-(run, epoch) results table as CSV (RFC 4180) and as flat records.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EpochRow, rowsAsCsv, rowsAsRecords } from '../../lib/epoch-rows';

const METRICS = ['run', 'trial_id', 'epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'epoch_duration', 'run_duration'];

/** A small RFC 4180 parser: quoted fields may hold commas, CR/LF and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') {
      assert.equal(field, '', 'a quote may only open a field');
      quoted = true; i++; continue;
    }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    assert.notEqual(c, '\r', 'bare CR outside quotes');
    field += c; i++;
  }
  assert.equal(quoted, false, 'unterminated quoted field');
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function row(run: number, epoch: number, params: EpochRow['params'], trialId = `t${run}`): EpochRow {
  return {
    run, trialId, params, epoch,
    trainLoss: 1 / epoch, trainAccuracy: 0.5 + epoch / 100, valLoss: 2 / epoch, valAccuracy: 0.4 + epoch / 100,
    epochDuration: 1.25, runDuration: 1.25 * epoch,
  };
}

const ROWS: EpochRow[] = [
  row(1, 1, { hidden_units: 256, dropout: 0.4 }),
  row(1, 2, { hidden_units: 256, dropout: 0.4 }),
  row(2, 1, { hidden_units: 512, dropout: 0.5, optimizer: 'adam' }),
  row(3, 1, { dropout: 0.5, use_bn: true }),
];

describe('rowsAsCsv', () => {
  test('header: metric columns, then hyperparameters in first-seen order', () => {
    const [header] = parseCsv(rowsAsCsv(ROWS));
    assert.deepEqual(header, [...METRICS, 'hidden_units', 'dropout', 'optimizer', 'use_bn']);
  });

  test('one line per row, newline-terminated, values in their columns', () => {
    const text = rowsAsCsv(ROWS);
    assert.ok(text.endsWith('\n'));
    assert.equal(text.split('\n').length, ROWS.length + 2); // header + rows + trailing empty
    const [header, ...lines] = parseCsv(text);
    assert.equal(lines.length, ROWS.length);
    for (const line of lines) assert.equal(line.length, header.length);
    const col = (name: string) => header.indexOf(name);
    assert.deepEqual(lines.map((l) => l[col('run')]), ['1', '1', '2', '3']);
    assert.deepEqual(lines.map((l) => l[col('epoch')]), ['1', '2', '1', '1']);
    assert.deepEqual(lines.map((l) => l[col('trial_id')]), ['t1', 't1', 't2', 't3']);
    assert.equal(Number(lines[1][col('train_loss')]), 0.5);
    assert.equal(Number(lines[1][col('val_loss')]), 1);
    assert.equal(Number(lines[1][col('train_accuracy')]), ROWS[1].trainAccuracy);
    assert.equal(Number(lines[1][col('val_accuracy')]), ROWS[1].valAccuracy);
    assert.equal(Number(lines[1][col('run_duration')]), 2.5);
    assert.equal(Number(lines[1][col('epoch_duration')]), 1.25);
    // Missing hyperparameters are empty cells; booleans and strings as text.
    assert.deepEqual(lines.map((l) => l[col('hidden_units')]), ['256', '256', '512', '']);
    assert.deepEqual(lines.map((l) => l[col('optimizer')]), ['', '', 'adam', '']);
    assert.deepEqual(lines.map((l) => l[col('use_bn')]), ['', '', '', 'true']);
  });

  test('numbers round-trip exactly through their text', () => {
    const r = { ...row(1, 1, { lr: 0.0001 }), trainLoss: 0.1 + 0.2, valLoss: 1e-12, valAccuracy: 2 / 3 };
    const [header, line] = parseCsv(rowsAsCsv([r]));
    assert.equal(Number(line[header.indexOf('train_loss')]), 0.1 + 0.2);
    assert.equal(Number(line[header.indexOf('val_loss')]), 1e-12);
    assert.equal(Number(line[header.indexOf('val_accuracy')]), 2 / 3);
    assert.equal(Number(line[header.indexOf('lr')]), 0.0001);
  });

  test('commas, quotes and newlines are quoted per RFC 4180 and parse back', () => {
    const nasty = ['a,b', 'say "hi"', 'two\nlines', 'cr\rhere', '"', ',', 'plain', ' spaced '];
    const rows = nasty.map((v, i) => row(i + 1, 1, { note: v, 'weird,key': i }, `trial "${i}", x`));
    const text = rowsAsCsv(rows);
    const [header, ...lines] = parseCsv(text);
    assert.deepEqual(header, [...METRICS, 'note', 'weird,key']);
    assert.equal(lines.length, nasty.length);
    assert.deepEqual(lines.map((l) => l[header.indexOf('note')]), nasty);
    assert.deepEqual(lines.map((l) => l[header.indexOf('trial_id')]), nasty.map((_, i) => `trial "${i}", x`));
    // Plain values are not quoted needlessly.
    assert.ok(text.includes(',plain,'));
    assert.ok(text.includes('"say ""hi"""'));
  });

  test('text a spreadsheet would run as a formula starts with a quote mark; negative numbers do not', () => {
    const formulas = ['=HYPERLINK("http://x","y")', '+1+2', '-2+3', '@SUM(A1)', '\tx', '\r=1'];
    const rows = formulas.map((v, i) => ({ ...row(i + 1, 1, { note: v, '=key': -i - 0.5 }), valLoss: -1 }));
    const [header, ...lines] = parseCsv(rowsAsCsv(rows));
    assert.deepEqual(header.slice(-2), ['note', "'=key"]);
    assert.deepEqual(lines.map((l) => l[header.indexOf('note')]), formulas.map((v) => `'${v}`));
    assert.deepEqual(lines.map((l) => l[header.indexOf("'=key")]), formulas.map((_, i) => String(-i - 0.5)));
    assert.deepEqual(lines.map((l) => l[header.indexOf('val_loss')]), formulas.map(() => '-1'));
  });

  test('no rows: just the metric header', () => {
    assert.equal(rowsAsCsv([]), METRICS.join(',') + '\n');
  });
});

describe('rowsAsRecords', () => {
  test('one flat record per row, matching the CSV cells', () => {
    const records = rowsAsRecords(ROWS);
    assert.equal(records.length, ROWS.length);
    assert.deepEqual(records[2], {
      run: 2, trial_id: 't2', epoch: 1, train_loss: 1, train_accuracy: 0.5 + 1 / 100, val_loss: 2, val_accuracy: 0.4 + 1 / 100,
      epoch_duration: 1.25, run_duration: 1.25, hidden_units: 512, dropout: 0.5, optimizer: 'adam',
    });
    assert.deepEqual(Object.keys(records[0]), [...METRICS, 'hidden_units', 'dropout']);
    const [header, ...lines] = parseCsv(rowsAsCsv(ROWS));
    records.forEach((record, i) => {
      header.forEach((column, j) => {
        const value = record[column];
        assert.equal(lines[i][j], value === undefined ? '' : String(value), `row ${i} column ${column}`);
      });
    });
  });

  test('keeps value types (numbers stay numbers, booleans stay booleans)', () => {
    const [r] = rowsAsRecords([row(1, 3, { use_bn: false, lr: 0.01 })]);
    assert.strictEqual(r.use_bn, false);
    assert.strictEqual(r.lr, 0.01);
    assert.strictEqual(r.epoch, 3);
    assert.strictEqual(r.run_duration, 3.75);
  });
});
