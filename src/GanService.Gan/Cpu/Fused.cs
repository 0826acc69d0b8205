using System.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>Optimizers whose update runs in one pass over memory.</summary>
public static class Fused
{
    // Named Adam on purpose: TorchSharp writes an optimizer's type name into its saved state and refuses to load state
    // saved under another name, and checkpoints stored before this class existed were saved by TorchSharp's Adam.
    /// <summary>
    /// TorchSharp's Adam with its update done in one pass over each parameter's memory, where the library's step issues
    /// nine tensor operations and several native scalars per parameter. Same formula, same state objects, so
    /// checkpoints and <c>load_state_dict</c> are unchanged; anything but plain Adam on contiguous float32 CPU tensors
    /// (AMSGrad, maximize, weight decay, a GPU) takes the library's step.
    /// </summary>
    public sealed class Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2)
        : TorchSharp.Modules.Adam(parameters, lr, beta1, beta2)
    {
        public override Tensor step(Func<Tensor>? closure = null)
        {
            var groups = ParamGroups.Cast<ParamGroup>().ToList();
            // Each grad read makes a wrapper of its own: take them once, and release them here.
            var work = groups
                .Select(group => group.Parameters.Select(p => (Parameter: p, Grad: p.grad)).ToList())
                .ToList();
            try
            {
                if (!FastPaths.Current.Adam || closure is not null || !Fusable(groups, work))
                    return base.step(closure!);
                for (int i = 0; i < groups.Count; i++)
                {
                    var options = (Options)groups[i].Options;
                    double beta1 = options.beta1!.Value,
                        beta2 = options.beta2!.Value,
                        lr = options.LearningRate!.Value;
                    foreach (var (parameter, grad) in work[i])
                    {
                        if (grad is null)
                            continue;
                        var state = (State)_state[parameter.Handle];
                        state.step++;
                        double correction1 = 1 - Math.Pow(beta1, state.step),
                            correction2 = 1 - Math.Pow(beta2, state.step);
                        Update(
                            parameter,
                            grad,
                            state.exp_avg,
                            state.exp_avg_sq,
                            new Coefficients(
                                (float)beta1,
                                (float)(1 - beta1),
                                (float)beta2,
                                (float)(1 - beta2),
                                (float)(1 / Math.Sqrt(correction2)),
                                (float)options.eps!.Value,
                                (float)(lr / correction1)
                            )
                        );
                    }
                }
                return null!; // as the library's step without a closure
            }
            finally
            {
                foreach (var (_, grad) in work.SelectMany(w => w))
                    grad?.Dispose();
            }
        }

        private bool Fusable(List<ParamGroup> groups, List<List<(Parameter Parameter, Tensor? Grad)>> work) =>
            groups
                .Zip(work)
                .All(pair =>
                    pair.First.Options is Options { amsgrad: false, maximize: false, weight_decay: 0 }
                    && pair.Second.All(w =>
                        w.Grad is null
                        || (
                            Plain(w.Parameter)
                            && Plain(w.Grad)
                            && _state[w.Parameter.Handle] is State s
                            && Plain(s.exp_avg)
                            && Plain(s.exp_avg_sq)
                        )
                    )
                );

        private static bool Plain(Tensor t) =>
            t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

        private readonly record struct Coefficients(
            float Beta1,
            float OneMinusBeta1,
            float Beta2,
            float OneMinusBeta2,
            float InverseRootCorrection2,
            float Eps,
            float StepSize
        );

        /// <summary>Parameters this large are updated in parts on the training thread's OpenMP team.</summary>
        private const long SplitAbove = 1 << 15;

        private static unsafe void Update(Tensor parameter, Tensor grad, Tensor average, Tensor squares, Coefficients k)
        {
            long n = parameter.numel();
            int parts = n < SplitAbove ? 1 : Math.Max(1, get_num_threads());
            fixed (
                byte* pp = parameter.bytes,
                    pg = grad.bytes,
                    pm = average.bytes,
                    pv = squares.bytes
            )
            {
                float* p = (float*)pp,
                    g = (float*)pg,
                    m = (float*)pm,
                    v = (float*)pv;
                // Part boundaries on whole vectors, so every element takes the same path as in one part.
                long chunk = (n / parts + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;
                OpenMpTeam.For(parts, part => Update(p, g, m, v, part * chunk, Math.Min(n, (part + 1) * chunk), k));
            }
        }

        private static unsafe void Update(float* p, float* g, float* m, float* v, long first, long end, Coefficients k)
        {
            long i = first;
            // Vector<float>: the width this CPU does best (256 bits on AVX2 and AVX-512 alike); the loop is bound by
            // memory, not arithmetic.
            int width = Vector<float>.Count;
            var b1 = new Vector<float>(k.Beta1);
            var c1 = new Vector<float>(k.OneMinusBeta1);
            var b2 = new Vector<float>(k.Beta2);
            var c2 = new Vector<float>(k.OneMinusBeta2);
            var root = new Vector<float>(k.InverseRootCorrection2);
            var eps = new Vector<float>(k.Eps);
            var size = new Vector<float>(k.StepSize);
            for (; Vector.IsHardwareAccelerated && i + width <= end; i += width)
            {
                var gi = Vector.Load(g + i);
                var mi = Vector.Load(m + i) * b1 + gi * c1;
                var vi = Vector.Load(v + i) * b2 + gi * gi * c2;
                mi.Store(m + i);
                vi.Store(v + i);
                (Vector.Load(p + i) - size * mi / (Vector.SquareRoot(vi) * root + eps)).Store(p + i);
            }
            for (; i < end; i++)
            {
                m[i] = m[i] * k.Beta1 + g[i] * k.OneMinusBeta1;
                v[i] = v[i] * k.Beta2 + g[i] * g[i] * k.OneMinusBeta2;
                p[i] -= k.StepSize * m[i] / (MathF.Sqrt(v[i]) * k.InverseRootCorrection2 + k.Eps);
            }
        }
    }
}
