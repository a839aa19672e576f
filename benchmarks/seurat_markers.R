# Seurat's marker calls on counts exported by benchmarks/seurat_markers.py (not a CI test).
#
# Usage: Rscript benchmarks/seurat_markers.R DIR CLUSTER_KEY DATASET_KEY
# DIR holds counts.mtx (genes x cells, raw counts), genes.txt, obs.csv (first column:
# cell names). Writes into DIR:
#   data.mtx            the LogNormalize'd matrix (genes x cells), to check the Python side
#   all_markers.csv     FindAllMarkers(min.pct = 0.25, only.pos = TRUE), in Seurat's order
#   conserved_<i>.csv   FindConservedMarkers(ident.1 = <cluster i>, grouping.var = DATASET_KEY)
#   clusters.txt        the clusters, in the order of the conserved_<i>.csv files
#   versions.txt        R, Seurat and metap versions
# Install on Debian: apt-get install r-base-core r-cran-seurat r-cran-metap

suppressPackageStartupMessages({
  library(Matrix)
  library(Seurat)
})

args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]
cluster_key <- args[[2]]
dataset_key <- args[[3]]

counts <- as(readMM(file.path(dir, "counts.mtx")), "CsparseMatrix")
genes <- readLines(file.path(dir, "genes.txt"))
obs <- read.csv(file.path(dir, "obs.csv"), row.names = 1, check.names = FALSE)
rownames(counts) <- genes
colnames(counts) <- rownames(obs)

object <- CreateSeuratObject(counts = counts, meta.data = obs)
object <- NormalizeData(object, normalization.method = "LogNormalize", scale.factor = 1e4,
                        verbose = FALSE)
writeMM(GetAssayData(object, slot = "data"), file.path(dir, "data.mtx"))
writeLines(rownames(object), file.path(dir, "seurat_genes.txt"))

clusters <- levels(factor(obs[[cluster_key]]))
Idents(object) <- factor(obs[[cluster_key]], levels = clusters)

# Cell-Hub's recipe starts here; the log2FC > 1 filter and the top 10 are read in Python
all_markers <- FindAllMarkers(object, min.pct = 0.25, only.pos = TRUE, verbose = FALSE)
write.csv(all_markers, file.path(dir, "all_markers.csv"), row.names = FALSE)

writeLines(clusters, file.path(dir, "clusters.txt"))
for (i in seq_along(clusters)) {
  conserved <- FindConservedMarkers(object, ident.1 = clusters[[i]],
                                    grouping.var = dataset_key, verbose = FALSE)
  conserved$gene <- rownames(conserved)
  write.csv(conserved, file.path(dir, sprintf("conserved_%d.csv", i)), row.names = FALSE)
}

writeLines(c(R.version.string,
             paste("Seurat", as.character(packageVersion("Seurat"))),
             paste("metap", as.character(packageVersion("metap")))),
           file.path(dir, "versions.txt"))
