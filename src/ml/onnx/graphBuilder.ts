// Builds an ONNX graph op by op with generated value names, so exporters read like the
// forward pass they mirror: `const y = g.op('MatMul', [x, w])`.
import {
  graphProto,
  int8TensorProto,
  modelProto,
  nodeProto,
  tensorProto,
  valueInfoProto,
  type AttrValue,
  type F32Source,
  type I8Source,
} from './onnxProto';
import type { ProtoMessage } from './protobuf';

export class GraphBuilder {
  private readonly nodes: ProtoMessage[] = [];
  private readonly initializers: ProtoMessage[] = [];
  private readonly inputs: ProtoMessage[] = [];
  private readonly outputs: ProtoMessage[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  /** Operator sets used beyond ONNX's own (contrib ops), with their versions. */
  private readonly domains: Record<string, number> = {};
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let n = hint;
    while (this.names.has(n)) n = `${hint}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name ${name} is already used`);
    this.names.add(name);
  }

  input(name: string, dims: readonly (number | string)[]): string {
    this.claim(name);
    this.inputs.push(valueInfoProto(name, dims));
    return name;
  }

  /** Declares `value` (a name produced by op) as a graph output called `name` (via Identity). */
  output(name: string, value: string, dims: readonly (number | string)[]): void {
    this.claim(name);
    this.nodes.push(nodeProto('Identity', [value], [name], `${name}_out`));
    this.outputs.push(valueInfoProto(name, dims));
  }

  /** A float32 initializer (weights), referenced (or produced) only when the model is written. */
  weight(hint: string, dims: readonly number[], data: F32Source): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, dims, data));
    return name;
  }

  /** An int8 initializer (quantized weights), produced when the model is written if lazy. */
  int8Weight(hint: string, dims: readonly number[], data: I8Source): string {
    const name = this.fresh(hint);
    this.initializers.push(int8TensorProto(name, dims, data));
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.weight(`c_${value}`, [], Float32Array.of(value));
  }

  /** An int64 constant (shapes, split sizes, indices); dims [] for a scalar. Deduplicated. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `${dims.join('x')}:${values.join(',')}`;
    const hit = this.int64Cache.get(key);
    if (hit) return hit;
    const name = this.fresh(`i64_${values.join('_').replace(/-/g, 'm')}`);
    this.initializers.push(tensorProto(name, dims, BigInt64Array.from(values.map((v) => BigInt(v)))));
    this.int64Cache.set(key, name);
    return name;
  }

  /** Adds a node; returns its single output name. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint?: string): string {
    return this.opN(type, inputs, 1, attrs, hint)[0];
  }

  /** Adds a node with `count` outputs. */
  opN(type: string, inputs: string[], count: number, attrs: Record<string, AttrValue> = {}, hint?: string): string[] {
    const base = this.fresh(hint ?? type.toLowerCase());
    const outs = count === 1 ? [base] : Array.from({ length: count }, (_, i) => this.fresh(`${base}_${i}`));
    this.nodes.push(nodeProto(type, inputs, outs, `n_${base}`, attrs));
    return outs;
  }

  /** A node of another operator set (e.g. ONNX Runtime's 'com.microsoft' contrib ops). */
  domainOp(domain: string, version: number, type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint?: string): string {
    const out = this.fresh(hint ?? type.toLowerCase());
    this.domains[domain] = version;
    this.nodes.push(nodeProto(type, inputs, [out], `n_${out}`, attrs, domain));
    return out;
  }

  toModel(metadata: Record<string, string> = {}): ProtoMessage {
    const graph = graphProto({
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    });
    return modelProto(graph, metadata, undefined, this.domains);
  }
}
