// The attnserve HTTP API (KServe v2 / Open Inference Protocol, docs/kserve.md)
// as the explorer calls it: same origin, relative URLs (so the page works
// behind a proxy that mounts the server under a prefix), JSON in and out, and
// the bearer token, when one is set, in the Authorization header.

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

const STATUS_TEXT = {
  400: "Bad request",
  401: "Unauthenticated",
  403: "Permission denied",
  404: "Not found",
  413: "Too large",
  429: "Resource exhausted",
  500: "Internal error",
  501: "Not implemented",
  503: "Unavailable",
  504: "Deadline exceeded",
};

export function statusText(status) {
  return STATUS_TEXT[status] || (status === 0 ? "No answer" : `HTTP ${status}`);
}

function segment(value) {
  return encodeURIComponent(value);
}

export class Api {
  // `token()`: the bearer token to send ("" for none).
  constructor(token) {
    this.token = token;
    this.base = new URL("../", document.baseURI);
  }

  async call(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, `the server did not answer (${e.message})`, path);
    }
    const text = await response.text();
    let json;
    try {
      json = text === "" ? {} : JSON.parse(text);
    } catch (e) {
      json = undefined;
    }
    if (!response.ok) {
      const message = json && typeof json.error === "string" ? json.error : text.slice(0, 300);
      throw new ApiError(response.status, message || statusText(response.status), path);
    }
    if (json === undefined) throw new ApiError(response.status, "the answer is not JSON", path);
    return json;
  }

  serverMetadata() {
    return this.call("GET", "v2");
  }

  ready() {
    return this.call("GET", "v2/health/ready");
  }

  // [{name, version, state, reason}]: every model version the server knows
  // (an admin call: needs a token, or a client on the server's machine).
  repositoryIndex() {
    return this.call("POST", "v2/repository/index", {});
  }

  modelPath(model, version) {
    return `v2/models/${segment(model)}${version ? `/versions/${segment(version)}` : ""}`;
  }

  modelMetadata(model, version) {
    return this.call("GET", this.modelPath(model, version));
  }

  infer(model, version, request) {
    return this.call("POST", `${this.modelPath(model, version)}/infer`, request);
  }

  // A file of the page itself (a sample), as text.
  async pageFile(name) {
    const response = await fetch(new URL(name, document.baseURI), { cache: "no-cache" });
    if (!response.ok) throw new ApiError(response.status, `cannot read ${name}`, name);
    return response.text();
  }
}
