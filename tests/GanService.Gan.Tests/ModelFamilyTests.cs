using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;

namespace GanService.Gan.Tests;

/// <summary>The family descriptors: one per family name, each answering for its defaults, rules and controls.</summary>
public class ModelFamilyTests
{
    [Fact]
    public void Every_family_is_registered_once_and_found_by_its_name()
    {
        string[] names =
        [
            ModelRecipe.Dcgan,
            ModelRecipe.ConditionalDcgan,
            ModelRecipe.Pix2Pix,
            ModelRecipe.CycleGan,
            ModelRecipe.BigGan,
            ModelRecipe.ProGan,
            ModelRecipe.StyleGan,
        ];
        Assert.Equal(names, ModelFamily.All.Select(f => f.Name));
        Assert.All(names, name => Assert.Same(ModelFamily.Find(name), ModelFamily.Of(new ModelRecipe(name))));
        Assert.Null(ModelFamily.TryFind("vae"));
        Assert.Throws<ArgumentException>(() => ModelFamily.Find("vae"));
        Assert.Same(ModelFamily.Default, ModelFamily.Of(new ModelRecipe()));
    }

    [Fact]
    public void A_family_only_field_sent_to_another_family_is_refused_by_its_path()
    {
        var problems = new Dictionary<string, string>();
        ModelFamily
            .Find(ModelRecipe.Dcgan)
            .ApplyFields(Plan(ModelRecipe.Dcgan), new FamilyFields(Width: 32, ImagesPerPhase: 100), (field, message) =>
                problems[field] = message
            );
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["model.width"] =
                    "model.width applies to biggan and progan and stylegan only; a dcgan does not read it.",
                ["training.imagesPerPhase"] =
                    "training.imagesPerPhase applies to progan only; a dcgan does not read it.",
            },
            problems
        );
    }

    [Fact]
    public void Family_only_fields_take_the_familys_defaults_and_neutral_values_elsewhere()
    {
        static TrainingPlan Applied(string family) =>
            ModelFamily
                .Find(family)
                .ApplyFields(Plan(family, 32), new FamilyFields(), (field, message) =>
                    Assert.Fail($"{field}: {message}")
                );
        var biggan = Applied(ModelRecipe.BigGan);
        Assert.Equal(
            (16, 16, 1e-4),
            (biggan.Model.Width, biggan.Model.AttentionResolution, biggan.OrthogonalRegularization)
        );
        var style = Applied(ModelRecipe.StyleGan).Model;
        Assert.Equal((4, 0.9, 0), (style.MappingLayers, style.StyleMixing, style.AttentionResolution));
        var dcgan = Applied(ModelRecipe.Dcgan);
        Assert.Equal(
            (16, 0, 4, 0.0, 0.0, 0L),
            (
                dcgan.Model.Width,
                dcgan.Model.AttentionResolution,
                dcgan.Model.MappingLayers,
                dcgan.Model.StyleMixing,
                dcgan.OrthogonalRegularization,
                dcgan.ImagesPerPhase
            )
        );
    }

    [Fact]
    public void Each_family_names_the_datasets_it_cannot_train_on()
    {
        static Dictionary<string, string> Problems(string family, DatasetKind kind, int classes = 0)
        {
            var problems = new Dictionary<string, string>();
            ModelFamily.Find(family).CheckDataset("faces", kind, classes, (field, text) => problems[field] = text);
            return problems;
        }
        Assert.Equal(
            "pix2pix trains on a paired dataset (upload A/ and B/ folders, or layout=sidebyside); 'faces' is unpaired.",
            Problems(ModelRecipe.Pix2Pix, DatasetKind.Unpaired)["dataset"]
        );
        Assert.Empty(Problems(ModelRecipe.CycleGan, DatasetKind.Paired));
        Assert.Equal(
            "Dataset faces is paired; a dcgan trains on plain or labelled images.",
            Problems(ModelRecipe.Dcgan, DatasetKind.Paired)["dataset"]
        );
        Assert.Equal(
            "A biggan is class-conditional and needs a labelled dataset; 'faces' has no classes.",
            Problems(ModelRecipe.BigGan, DatasetKind.Images)["model.family"]
        );
        Assert.Empty(Problems(ModelRecipe.ConditionalDcgan, DatasetKind.Labelled, classes: 10));
    }

    [Fact]
    public void Sampling_controls_a_family_lacks_are_named_with_the_families_that_have_them()
    {
        var dcgan = new SamplingControls(0.5, NoiseMode.Random, 3, 2).Check(new ModelRecipe());
        Assert.Equal("A dcgan generator has no truncation; it is a biggan or stylegan control.", dcgan["truncation"]);
        Assert.Equal("A dcgan generator has no noise inputs; noise is a stylegan control.", dcgan["noise"]);
        Assert.Equal("A dcgan generator has no styles to mix; mixFrom is a stylegan control.", dcgan["mixFrom"]);
        Assert.Contains(
            "at most 4",
            new SamplingControls(5).Check(new ModelRecipe(ModelRecipe.BigGan, 32))["truncation"]
        );
        Assert.Empty(new SamplingControls(0.5).Check(new ModelRecipe(ModelRecipe.StyleGan, 32)));
        Assert.Equal(
            "mixFrom needs mix, the seed whose styles to take.",
            new SamplingControls(MixFrom: 2).Check(new ModelRecipe(ModelRecipe.StyleGan, 32))["mix"]
        );
    }

    private static TrainingPlan Plan(string family, int size = 28) =>
        new(new ModelRecipe(family, size), new OptimizerRecipe(), 1);
}
