namespace GanService.Datasets;

/// <summary>
/// A job's data cannot be had: an uploaded dataset deleted since, a built-in neither installed nor downloadable, or a
/// download that failed or did not verify. Its message is written for the job's owner and becomes the job's error.
/// </summary>
public sealed class DatasetUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
