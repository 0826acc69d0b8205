# GanService: one image, three roles (Gan__Role=api|worker|all).
#   CPU (default):  docker build -t ganservice .
#   CUDA workers:   docker build --build-arg TORCH_BACKEND=cuda -t ganservice:cuda .
# The CUDA build bundles libtorch's CUDA libraries; the host needs only the NVIDIA driver and container toolkit.
ARG TORCH_BACKEND=cpu

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props GanService.sln ./
COPY deploy/build deploy/build
COPY src/GanService.Gan/GanService.Gan.csproj src/GanService.Gan/
# The project imports its runtime settings (RuntimeOptions.props), so restore needs that file too.
COPY src/GanService/GanService.csproj src/GanService/RuntimeOptions.props src/GanService/
# ReadyToRun: the assemblies ship precompiled, so a container is ready ~30% sooner and its JIT takes less CPU from
# the first jobs (docs/benchmarks.md, tenth session); restore fetches the compiler for it.
RUN dotnet restore src/GanService/GanService.csproj -p:TorchBackend=${TORCH_BACKEND} -p:PublishReadyToRun=true
# The build compiles one small C library (the finalizer quarantine, src/GanService.Gan/Runtime/Native).
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY src src
RUN dotnet publish src/GanService/GanService.csproj -c Release -o /app --no-restore -p:TorchBackend=${TORCH_BACKEND} -p:PublishReadyToRun=true

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# glibc keeps libtorch's large buffers instead of unmapping them on every free, and keeps the heaps of other
# threads' arenas mapped (also set in-process by mallopt);
# OpenMP's idle threads spin briefly, leaving renders the gaps of a training step (also set in-process).
ENV MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=2147483647 \
    MALLOC_TOP_PAD_=67108864 \
    GOMP_SPINCOUNT=10000 \
    ASPNETCORE_URLS=http://+:8080 \
    Gan__DataDirectory=/data \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
VOLUME /data
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "GanService.dll"]
