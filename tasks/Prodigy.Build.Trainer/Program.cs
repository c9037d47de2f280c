// prodigy-build-train: see TrainerCommandLine.
return Prodigy.Build.Trainer.TrainerCommandLine.Start(args);
