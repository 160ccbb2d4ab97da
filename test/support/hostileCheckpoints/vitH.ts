// The data.pkl of the largest checkpoint we target, written as torch.save writes it: the
// open_clip ViT-H/14 state dict (686 tensors) and, for a training checkpoint, its AdamW state
// (step, exp_avg, exp_avg_sq per parameter: 2,744 tensors in all). Python's pickle makes a
// 259 KB stream of 83 k opcodes for the same structure; the budgets of limits.ts are sized
// against it (test/unit/ml/checkpoint/limits.test.ts).
import { OP, PickleWriter } from './pickleWriter';

type Shape = number[];

function block(prefix: string, w: number, out: [string, Shape][]): void {
  const parts: [string, Shape][] = [
    ['ln_1.weight', [w]],
    ['ln_1.bias', [w]],
    ['attn.in_proj_weight', [3 * w, w]],
    ['attn.in_proj_bias', [3 * w]],
    ['attn.out_proj.weight', [w, w]],
    ['attn.out_proj.bias', [w]],
    ['ln_2.weight', [w]],
    ['ln_2.bias', [w]],
    ['mlp.c_fc.weight', [4 * w, w]],
    ['mlp.c_fc.bias', [4 * w]],
    ['mlp.c_proj.weight', [w, 4 * w]],
    ['mlp.c_proj.bias', [w]],
  ];
  for (const [k, s] of parts) out.push([prefix + k, s]);
}

/** Names and shapes of open_clip ViT-H-14 as saved from DDP ('module.' prefix). */
export function vitHShapes(): [string, Shape][] {
  const out: [string, Shape][] = [
    ['module.visual.class_embedding', [1280]],
    ['module.visual.positional_embedding', [257, 1280]],
    ['module.visual.proj', [1280, 1024]],
    ['module.visual.conv1.weight', [1280, 3, 14, 14]],
    ['module.visual.ln_pre.weight', [1280]],
    ['module.visual.ln_pre.bias', [1280]],
  ];
  for (let i = 0; i < 32; i++) block(`module.visual.transformer.resblocks.${i}.`, 1280, out);
  out.push(['module.visual.ln_post.weight', [1280]], ['module.visual.ln_post.bias', [1280]]);
  out.push(['module.positional_embedding', [77, 1024]], ['module.text_projection', [1024, 1024]]);
  out.push(['module.logit_scale', []], ['module.token_embedding.weight', [49408, 1024]]);
  for (let i = 0; i < 24; i++) block(`module.transformer.resblocks.${i}.`, 1024, out);
  out.push(['module.ln_final.weight', [1024]], ['module.ln_final.bias', [1024]]);
  return out;
}

/** data.pkl of a ViT-H/14 checkpoint; with `optimizer`, of a training checkpoint with AdamW state. */
export function vitHPickle(optimizer: boolean): Uint8Array {
  const shapes = vitHShapes();
  const w = new PickleWriter();
  let key = 0;
  const tensor = (wr: PickleWriter, shape: Shape) => void wr.tensor(String(key++), shape);
  if (!optimizer) return w.orderedDict(shapes, tensor).finish();
  w.op(OP.EMPTY_DICT).put();
  w.op(OP.MARK).str('epoch').int(32).str('name').str('ViT-H-14-laion2b').str('state_dict');
  w.orderedDict(shapes, tensor);
  w.str('optimizer').op(OP.EMPTY_DICT).put();
  w.op(OP.MARK).str('state').op(OP.EMPTY_DICT).put();
  for (let i = 0; i < shapes.length; i += 1000) {
    w.op(OP.MARK);
    for (let j = i; j < Math.min(i + 1000, shapes.length); j++) {
      w.int(j).op(OP.EMPTY_DICT).put();
      w.op(OP.MARK).str('step');
      tensor(w, []);
      w.str('exp_avg');
      tensor(w, shapes[j][1]);
      w.str('exp_avg_sq');
      tensor(w, shapes[j][1]);
      w.op(OP.SETITEMS);
    }
    w.op(OP.SETITEMS);
  }
  w.str('param_groups').op(OP.EMPTY_LIST).put();
  w.op(OP.EMPTY_DICT).put();
  w.op(OP.MARK).str('lr').int(0).str('params').op(OP.EMPTY_LIST).put();
  for (let i = 0; i < shapes.length; i += 1000) {
    w.op(OP.MARK);
    for (let j = i; j < Math.min(i + 1000, shapes.length); j++) w.int(j);
    w.op(OP.APPENDS);
  }
  w.op(OP.SETITEMS, OP.APPEND, OP.SETITEMS); // param group; {'state', 'param_groups'}
  w.op(OP.SETITEMS); // top-level dict
  return w.finish();
}
