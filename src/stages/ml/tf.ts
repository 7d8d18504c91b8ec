/**
 * Loads TensorFlow.js once per process, on the fastest backend this machine has.
 *
 * Only the MLP needs TensorFlow, so nothing imports it statically: a run that trains a
 * forest never pays its ~0.5 s import or its memory. The first `loadTf()` picks, in order:
 * - `tensorflow` (native, multi-threaded) if the optional `@tensorflow/tfjs-node` is
 *   installed. Its install downloads a binary and fails offline, so it is an optional
 *   dependency, loaded through a specifier held in a variable so neither TypeScript nor a
 *   bundler insists on it;
 * - `wasm`, which in Node is single-threaded but about 2.7× faster than `cpu` on an MLP
 *   (see STACK-NOTES.md);
 * - `cpu`, pure JavaScript, if the WebAssembly module cannot be instantiated.
 *
 * Layers come from `@tensorflow/tfjs-layers`, imported after `@tensorflow/tfjs-core`:
 * layers registers its ops against the one core module the package manager deduplicated,
 * so both see the same engine (checked below, as a split engine fails much later and
 * obscurely, with tensors "not found" in the backend).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export type TfCore = typeof import('@tensorflow/tfjs-core');
export type TfLayers = typeof import('@tensorflow/tfjs-layers');
export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';

export type Tf = {
  /** Tensors, ops, memory, io: `@tensorflow/tfjs-core`. */
  tf: TfCore;
  /** Models and layers: `@tensorflow/tfjs-layers`, bound to the same engine as `tf`. */
  layers: TfLayers;
  /** The backend every tensor lives on; fixed for the life of the process. */
  backend: TfBackend;
};

let loading: Promise<Tf> | null = null;

/**
 * The TensorFlow.js modules and the backend in use. Memoised: the backend is chosen and
 * initialised on the first call (about 10 ms for wasm after the import), and every later
 * call returns the same promise, so concurrent callers share one initialisation.
 */
export function loadTf(): Promise<Tf> {
  loading ??= initialise().catch((error: unknown) => {
    // Let a later call try again rather than caching a failure for the process's life.
    loading = null;
    throw error;
  });
  return loading;
}

async function initialise(): Promise<Tf> {
  const tf: TfCore = await import('@tensorflow/tfjs-core');
  const backend = (await tryNative(tf)) ?? (await tryWasm(tf)) ?? (await useCpu(tf));
  const layers: TfLayers = await import('@tensorflow/tfjs-layers');
  checkSharedEngine(tf, layers);
  return { tf, layers, backend };
}

/** The native backend, if `@tensorflow/tfjs-node` is installed and loads. */
async function tryNative(tf: TfCore): Promise<TfBackend | null> {
  // A variable, not a literal: the package is optional and usually absent.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
  } catch {
    return null;
  }
  // tfjs-node registers 'tensorflow' on the tfjs-core it resolved; if that is a different
  // copy from ours, our engine does not know the backend and wasm is used instead.
  if (!tf.findBackendFactory('tensorflow')) return null;
  return (await setBackend(tf, 'tensorflow')) ? 'tensorflow' : null;
}

/**
 * The WebAssembly backend. Its Node bundle finds its `.wasm` files next to itself, but the
 * path is set explicitly from the package's resolved location so that a bundled or
 * relocated copy of this module still loads them. Threads are not available in Node, so
 * the single-threaded SIMD build is used.
 */
async function tryWasm(tf: TfCore): Promise<TfBackend | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(`${dist}${path.sep}`);
    return (await setBackend(tf, 'wasm')) ? 'wasm' : null;
  } catch {
    return null;
  }
}

async function useCpu(tf: TfCore): Promise<TfBackend> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await setBackend(tf, 'cpu'))) {
    throw new Error('TensorFlow.js: no backend could be initialised (tried tensorflow, wasm, cpu)');
  }
  return 'cpu';
}

/** Switches to `name` and confirms it is really active (setBackend can fail silently). */
async function setBackend(tf: TfCore, name: TfBackend): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Fails early if layers and core hold different engines (two copies of tfjs-core on disk):
 * a tensor made by one would be unknown to the other.
 */
function checkSharedEngine(tf: TfCore, layers: TfLayers): void {
  const probe = layers.layers.dense({ units: 1, inputShape: [1], useBias: false });
  const before = tf.memory().numTensors;
  const model = layers.sequential({ layers: [probe] });
  const grew = tf.memory().numTensors > before;
  model.dispose();
  if (!grew) {
    throw new Error(
      'TensorFlow.js: @tensorflow/tfjs-layers and @tensorflow/tfjs-core use different engines; ' +
        'install matching versions so there is one copy of tfjs-core',
    );
  }
}
