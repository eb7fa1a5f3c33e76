// Reading the sequences a user pastes, uploads or picks as a sample.
//
// Accepted text (docs/explorer.md, "Input"):
//   JSON  {"sequences": [SEQ, ...]} (attnctl's sample files), a bare [SEQ, ...],
//         or one SEQ, where SEQ is [[v, ...], ...] (steps x features), an object
//         {"values": [[...], ...], "label": "expected"} or, for a model that
//         reads token ids, [id, ...] / {"ids": [...], "label": ...}.
//   CSV   one timestep per row, values separated by commas, semicolons, tabs
//         or spaces; '#' lines and blank lines skipped; a first row that is not
//         numbers names the features. For token ids: one id per row, or all
//         ids on one row.
// parseInput never throws: it returns {sequences, featureNames, model,
// description, error}; a file may name its model (JSON "model", CSV
// "# model: NAME") and describe itself (JSON "description", CSV comments).

const MAX_SEQUENCES = 256;

function isNumberArray(value) {
  return Array.isArray(value) && value.every((v) => typeof v === "number");
}

function isMatrix(value) {
  return Array.isArray(value) && value.length > 0 && value.every(isNumberArray);
}

// One JSON sequence -> {values?: number[][], ids?: number[], label?: string}.
function sequenceOf(item, index, tokenIds) {
  const where = `sequence ${index}`;
  let label;
  let body = item;
  if (item !== null && typeof item === "object" && !Array.isArray(item)) {
    label = typeof item.label === "string" ? item.label : undefined;
    body = item.ids !== undefined ? item.ids : item.values;
    if (body === undefined) throw new Error(`${where}: an object needs "values" (or "ids")`);
  }
  if (isNumberArray(body)) {
    if (body.length === 0) throw new Error(`${where} has no steps`);
    if (tokenIds) return { ids: body, label };
    // A flat list for a model of values: one feature per step.
    return { values: body.map((v) => [v]), label, flat: true };
  }
  if (isMatrix(body)) {
    if (tokenIds && body.every((row) => row.length === 1)) {
      return { ids: body.map((row) => row[0]), label };
    }
    if (tokenIds) {
      throw new Error(`${where}: this model reads token ids: give a list of ids, e.g. [3, 1, 4]`);
    }
    const width = body[0].length;
    const bad = body.findIndex((row) => row.length !== width);
    if (bad >= 0) {
      throw new Error(`${where}: step ${bad} has ${body[bad].length} values; step 0 has ${width}`);
    }
    return { values: body, label };
  }
  throw new Error(`${where} is not a list of steps (numbers)`);
}

function parseJson(text, tokenIds) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON: ${e.message}`);
  }
  let items;
  let model;
  let description;
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    model = typeof data.model === "string" ? data.model : undefined;
    description = typeof data.description === "string" ? data.description : undefined;
    if (Array.isArray(data.sequences)) {
      items = data.sequences;
    } else if (data.values !== undefined || data.ids !== undefined) {
      items = [data];
    } else {
      throw new Error('a JSON object needs "sequences" (or "values" / "ids")');
    }
  } else if (Array.isArray(data)) {
    // One sequence ([[...]] or, for token ids, [...]) or a list of them.
    const oneSequence = isMatrix(data) || (isNumberArray(data) && data.length > 0);
    items = oneSequence ? [data] : data;
  } else {
    throw new Error("the JSON is neither a sequence nor a list of sequences");
  }
  if (items.length === 0) throw new Error("no sequences");
  return { sequences: items.map((item, i) => sequenceOf(item, i, tokenIds)), model, description };
}

function splitRow(line) {
  return line.split(/[,;\t ]+/).filter((cell) => cell !== "");
}

function parseCsv(text, tokenIds) {
  const rows = [];
  let header;
  let model;
  const comments = [];
  text.split(/\r?\n/).forEach((raw, lineIndex) => {
    const line = raw.trim();
    if (line === "") return;
    if (line.startsWith("#")) {
      const named = /^#\s*model\s*[:=]\s*(\S+)/i.exec(line);
      if (named) model = named[1];
      else comments.push(line.replace(/^#\s?/, ""));
      return;
    }
    const cells = splitRow(line);
    const numbers = cells.map(Number);
    const notNumber = (cell, i) => Number.isNaN(numbers[i]) || cell.toLowerCase() === "nan";
    if (cells.some(notNumber)) {
      // A first row of names only is the header.
      if (rows.length === 0 && header === undefined && cells.every(notNumber)) {
        header = cells;
        return;
      }
      const bad = cells.find(notNumber);
      throw new Error(`line ${lineIndex + 1}: '${bad}' is not a number`);
    }
    rows.push({ numbers, line: lineIndex + 1 });
  });
  if (rows.length === 0) throw new Error("no rows of numbers");
  const description = comments.length ? comments.join(" ") : undefined;
  if (tokenIds) {
    if (rows.length === 1) return { sequences: [{ ids: rows[0].numbers }], model, description };
    const wide = rows.find((r) => r.numbers.length !== 1);
    if (wide) {
      throw new Error(`line ${wide.line}: token ids are one per row, or all on one row`);
    }
    return { sequences: [{ ids: rows.map((r) => r.numbers[0]) }], model, description };
  }
  const width = rows[0].numbers.length;
  const bad = rows.find((r) => r.numbers.length !== width);
  if (bad) {
    throw new Error(`line ${bad.line} has ${bad.numbers.length} values; the first row has ${width}`);
  }
  if (header !== undefined && header.length !== width) {
    throw new Error(`the header names ${header.length} columns; the rows have ${width} values`);
  }
  return { sequences: [{ values: rows.map((r) => r.numbers) }], featureNames: header, model,
           description };
}

function checkValues(sequences) {
  const width = sequences[0].values !== undefined ? sequences[0].values[0].length : 1;
  sequences.forEach((s, i) => {
    if (s.values !== undefined && s.values[0].length !== width) {
      throw new Error(`sequence ${i} has ${s.values[0].length} values per step; sequence 0 has ${width}`);
    }
    const flat = s.ids !== undefined ? s.ids : s.values.flat();
    const bad = flat.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`sequence ${i}: element ${bad} is not a finite number`);
    if (s.ids !== undefined) {
      const notId = s.ids.findIndex((v) => !Number.isInteger(v));
      if (notId >= 0) throw new Error(`sequence ${i}: token id ${s.ids[notId]} is not an integer`);
    }
  });
}

// `tokenIds`: the model reads token ids. Returns {sequences, featureNames,
// model (named by the file, if any), error (a message, or undefined)}.
export function parseInput(text, tokenIds) {
  const trimmed = text.trim();
  if (trimmed === "") return { sequences: [], error: undefined };
  try {
    const parsed = /^[[{]/.test(trimmed) ? parseJson(trimmed, tokenIds) : parseCsv(trimmed, tokenIds);
    if (parsed.sequences.length > MAX_SEQUENCES) {
      throw new Error(`${parsed.sequences.length} sequences; the explorer sends at most ${MAX_SEQUENCES}`);
    }
    checkValues(parsed.sequences);
    return { ...parsed, error: undefined };
  } catch (e) {
    return { sequences: [], error: e.message };
  }
}

// The sequences as one v2 request: INPUT [B, T, D] FP32 (or [B, T] INT64),
// right-padded, and LENGTHS [B].
export function buildInferRequest(sequences, tokenIds) {
  const lengths = sequences.map((s) => (tokenIds ? s.ids.length : s.values.length));
  const steps = Math.max(...lengths);
  const inputs = [];
  if (tokenIds) {
    const data = [];
    sequences.forEach((s) => {
      for (let t = 0; t < steps; t++) data.push(t < s.ids.length ? s.ids[t] : 0);
    });
    inputs.push({ name: "INPUT", datatype: "INT64", shape: [sequences.length, steps], data });
  } else {
    const width = sequences[0].values[0].length;
    const data = [];
    sequences.forEach((s) => {
      for (let t = 0; t < steps; t++) {
        const row = t < s.values.length ? s.values[t] : null;
        for (let d = 0; d < width; d++) data.push(row !== null && d < row.length ? row[d] : 0);
      }
    });
    inputs.push({ name: "INPUT", datatype: "FP32", shape: [sequences.length, steps, width], data });
  }
  inputs.push({ name: "LENGTHS", datatype: "INT32", shape: [sequences.length], data: lengths });
  return { inputs };
}
