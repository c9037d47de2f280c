// Builds share one BuildManager and the machine's two cores; run them one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
