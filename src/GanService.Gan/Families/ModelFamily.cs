using GanService.Gan.Data;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// One model family: its name, image geometry and defaults, the rules for the request fields and datasets it reads,
/// its networks, its trainer and its sampling controls. Callers look a family up by name and ask it, rather than
/// matching names; a new family is one subclass in this folder and one line in <see cref="All"/>
/// (docs/adding-a-family.md).
/// </summary>
public abstract class ModelFamily
{
    // Before All: the families it constructs may read it.
    protected static readonly IReadOnlyList<int> GreyOrRgb = [1, 3];

    /// <summary>Every family, in the order the API lists them.</summary>
    public static IReadOnlyList<ModelFamily> All { get; } =
    [
        new DcganFamily(),
        new ConditionalDcganFamily(),
        new Pix2PixFamily(),
        new CycleGanFamily(),
        new BigGanFamily(),
        new ProGanFamily(),
        new StyleGanFamily(),
    ];

    /// <summary>The family a recipe gets when it names none.</summary>
    public static ModelFamily Default => Find(ModelRecipe.Dcgan);

    public static ModelFamily? TryFind(string? name) => All.FirstOrDefault(f => f.Name == name);

    public static ModelFamily Find(string? name) => TryFind(name) ?? throw Unknown(name, nameof(name));

    public static ModelFamily Of(ModelRecipe recipe) =>
        TryFind(recipe.Family) ?? throw Unknown(recipe.Family, nameof(recipe));

    private static ArgumentException Unknown(string? name, string parameter) =>
        new($"Unknown model family '{name}'.", parameter);

    /// <summary>The name requests, recipes and checkpoints use (a <see cref="ModelRecipe"/> constant).</summary>
    public abstract string Name { get; }

    /// <summary>The image sizes it trains at; the first is the default.</summary>
    public abstract IReadOnlyList<int> ImageSizes { get; }

    public virtual IReadOnlyList<int> ChannelCounts => GreyOrRgb;

    public abstract FamilyDefaults Defaults { get; }

    /// <summary>
    /// The <see cref="FamilyFields"/> paths this family reads. Sent to a family that does not read it, such a field is
    /// refused by name rather than silently ignored.
    /// </summary>
    public virtual IReadOnlyCollection<string> Fields => [];

    /// <summary>Its networks take class labels beside their input, and it trains on a labelled dataset.</summary>
    public virtual bool Conditional => false;

    /// <summary>Image-to-image: its generator translates an image rather than drawing one from noise.</summary>
    public virtual bool Translates => false;

    /// <summary>An image-to-image family with a second generator that translates B to A.</summary>
    public virtual bool TranslatesBothWays => false;

    /// <summary>Draws images from a latent z: samples, interpolations and latent-space walks apply.</summary>
    public bool SamplesFromNoise => !Translates;

    /// <summary>Trains by progressive growing, one resolution after another (ProgressiveSchedule).</summary>
    public virtual bool GrowsProgressively => false;

    /// <summary>What the <c>truncation</c> sampling control does to this family's samples.</summary>
    public virtual TruncationTrick Truncation => TruncationTrick.None;

    /// <summary>Its generator has per-layer styles and noise inputs: the noise, mix and mixFrom controls.</summary>
    public virtual bool MixesStyles => false;

    /// <summary>
    /// Reports (under <c>dataset</c> or <c>model.family</c>) a dataset this family cannot train on. <c>classes</c> is
    /// the dataset's class count, counted for conditional families only (0 for the others).
    /// </summary>
    public virtual void CheckDataset(string dataset, DatasetKind kind, int classes, Action<string, string> fail)
    {
        if (kind is DatasetKind.Paired or DatasetKind.Unpaired)
            fail("dataset", $"Dataset {dataset} is {Describe(kind)}; a {Name} trains on plain or labelled images.");
        else if (Conditional && classes < 2)
            fail(
                "model.family",
                $"A {Name} is class-conditional and needs a labelled dataset; '{dataset}' has no classes."
            );
    }

    /// <summary>
    /// The plan with the family-only fields set from the request, or from <see cref="Defaults"/> where it leaves them
    /// out. Problems go to <paramref name="fail"/> keyed by the field's JSON path.
    /// </summary>
    public TrainingPlan ApplyFields(TrainingPlan plan, FamilyFields fields, Action<string, string> fail)
    {
        foreach (var field in fields.Sent().Where(f => !Fields.Contains(f)))
        {
            var readers = All.Where(f => f.Fields.Contains(field)).Select(f => f.Name);
            fail(field, $"{field} applies to {string.Join(" and ", readers)} only; a {Name} does not read it.");
        }
        return fields.Apply(plan, Defaults, fail);
    }

    /// <summary>Builds the generator; called through <c>GanNetworks.Generator</c>, which readies the process.</summary>
    protected internal abstract nn.Module CreateGenerator(ModelRecipe recipe);

    /// <summary>Builds the discriminator; call it through <c>GanNetworks.Discriminator</c>.</summary>
    protected internal abstract nn.Module CreateDiscriminator(ModelRecipe recipe);

    public virtual Trainer CreateTrainer(TrainingPlan plan, TrainingData data, Device device) =>
        GanTrainer.Create(plan, data.Images, device);

    /// <summary>Resumes from a bundle whose checksum the caller has verified (<see cref="Trainers.Resume"/>).</summary>
    public virtual Trainer ResumeTrainer(byte[] bundle, TrainingData data, Device device) =>
        GanTrainer.Resume(bundle, data.Images, device);

    /// <summary>Problems, keyed by the control's name, for controls this family lacks or values it refuses.</summary>
    public IReadOnlyDictionary<string, string> CheckControls(SamplingControls controls, ModelRecipe recipe)
    {
        var problems = new Dictionary<string, string>();
        if (controls.Truncation is { } t)
        {
            if (Truncation == TruncationTrick.None)
                problems["truncation"] =
                    $"A {Name} generator has no truncation; "
                    + $"it is a {Offering(f => f.Truncation != TruncationTrick.None)} control.";
            else if (TruncationProblem(t) is { } problem)
                problems["truncation"] = problem;
        }
        if (MixesStyles)
        {
            CheckStyles(controls, recipe, problems);
            return problems;
        }
        string styled = Offering(f => f.MixesStyles);
        if (controls.Noise is not null)
            problems["noise"] = $"A {Name} generator has no noise inputs; noise is a {styled} control.";
        if (controls.MixSeed is not null)
            problems["mix"] = $"A {Name} generator has no styles to mix; mix is a {styled} control.";
        if (controls.MixFrom is not null)
            problems["mixFrom"] = $"A {Name} generator has no styles to mix; mixFrom is a {styled} control.";
        return problems;
    }

    /// <summary>Where <see cref="Truncation"/> is not None: what is wrong with this value, or null.</summary>
    protected virtual string? TruncationProblem(double truncation) => null;

    /// <summary>Where <see cref="MixesStyles"/>: the problems of the noise and mixing controls.</summary>
    protected virtual void CheckStyles(
        SamplingControls controls,
        ModelRecipe recipe,
        Dictionary<string, string> problems
    ) { }

    public override string ToString() => Name;

    /// <summary>How a dataset's kind reads in a message: <c>paired</c>, <c>labelled</c>.</summary>
    protected static string Describe(DatasetKind kind) => kind.ToString().ToLowerInvariant();

    private static string Offering(Func<ModelFamily, bool> offers) =>
        string.Join(" or ", All.Where(offers).Select(f => f.Name));
}

/// <summary>What the <c>truncation</c> sampling control means for a family.</summary>
public enum TruncationTrick
{
    /// <summary>The family has no truncation.</summary>
    None,

    /// <summary>BigGAN: latent entries beyond the threshold are redrawn.</summary>
    RedrawLatents,

    /// <summary>StyleGAN: w is pulled toward the average w by psi.</summary>
    TowardAverageStyle,
}
